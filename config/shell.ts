/** One shell word, whatever the value holds (paths with spaces or quotes). */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
