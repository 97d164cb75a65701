import type * as langPb from "@pulumi/pulumi/proto/language_pb";

/** Pulumi.yaml's `runtime.options`, as the official host reads them. */
export interface RuntimeOptions {
  typescript: boolean;
  tsconfig?: string;
  nodeargs: string[];
}

export function runtimeOptions(info: langPb.ProgramInfo | undefined): RuntimeOptions {
  const options = info?.getOptions()?.toJavaScript() ?? {};
  const { typescript = true, tsconfig, nodeargs = "" } = options;
  const wrong = (key: string, want: string, value: unknown) =>
    new Error(`Pulumi.yaml runtime.options.${key} must be ${want}, not ${JSON.stringify(value)}`);
  if (typeof typescript !== "boolean") throw wrong("typescript", "true or false", typescript);
  if (tsconfig !== undefined && typeof tsconfig !== "string") throw wrong("tsconfig", "a path", tsconfig);
  if (typeof nodeargs !== "string") throw wrong("nodeargs", "a string of node flags", nodeargs);
  return { typescript, tsconfig, nodeargs: splitWords(nodeargs) };
}

/** Splits like a POSIX shell (quotes and backslashes, no expansion), as the official host's shlex. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= "";
      if (c === "'" || c === '"') quote = c;
      else if (c === "\\" && i + 1 < text.length) word += text[++i];
      else word += c;
    }
  }
  if (quote) throw new Error(`Pulumi.yaml runtime.options.nodeargs has an unclosed ${quote}: ${text}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** The SDK reads config keys as `ns:config:key`; the engine sends `ns:key` (or already the old form). */
export function programConfig(config: [string, string][]): string {
  const entries = config.map(([key, value]) => {
    const parts = key.split(":");
    if (parts.length === 2) return [`${parts[0]}:config:${parts[1]}`, value];
    if (parts.length === 3 && parts[1] === "config") return [key, value];
    throw new Error(`config key ${key} is not of the form <namespace>:<name>: rename it with pulumi config`);
  });
  return JSON.stringify(Object.fromEntries(entries));
}
