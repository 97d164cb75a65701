/** Group names may carry one numeric range, as in Enos: `grp[2-4]` stands for grp2, grp3, grp4. */
const RANGE = /^(.*)\[(\d+)-(\d+)\](.*)$/;

export class RangeSyntaxError extends Error {}

/** Expands one group pattern; a name without brackets stands for itself. */
export function expandRange(pattern: string): string[] {
  if (!pattern.includes("[") && !pattern.includes("]")) return [pattern];
  const match = RANGE.exec(pattern);
  if (!match || /[[\]]/.test(match[1] + match[4])) {
    throw new RangeSyntaxError(`"${pattern}" is not a valid group range; write it as name[first-last], e.g. grp[2-4]`);
  }
  const [, prefix, first, last, suffix] = match;
  const from = Number(first);
  const to = Number(last);
  if (from > to) {
    throw new RangeSyntaxError(
      `"${pattern}" counts down (${from} > ${to}); write the smaller number first, e.g. ${prefix}[${to}-${from}]${suffix}`,
    );
  }
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}${suffix}`);
}

/** Expands every key of a mapping, refusing two keys that name the same group. */
export function expandKeys<T>(mapping: Record<string, T>): Record<string, T> {
  const expanded: Record<string, T> = {};
  const origin: Record<string, string> = {};
  for (const [pattern, value] of Object.entries(mapping)) {
    for (const name of expandRange(pattern)) {
      if (name in expanded) {
        throw new RangeSyntaxError(
          `group "${name}" is defined twice (by "${origin[name]}" and "${pattern}"); give each group one definition`,
        );
      }
      expanded[name] = value;
      origin[name] = pattern;
    }
  }
  return expanded;
}
