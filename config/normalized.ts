import * as yaml from "js-yaml";
import { formatPath } from "./errors";

/**
 * The configuration as its user reads it: their key names (Enos' and the stack config's) in the shape
 * they wrote, every default filled in and listed, so that `enos check` can be read against the file.
 */
export interface NormalizedConfig {
  value: Record<string, unknown>;
  /** Key paths (`provider.walltime`, `patches[0].enabled`) whose value is a default, not the user's. */
  defaults: string[];
}

type Tree = Record<string, unknown>;
const isMapping = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `filled` is what validation made of `written`: the keys the user wrote first, in their order, then
 * the defaults; a key absent from `written` is a default with everything under it.
 */
export function normalize(written: Tree, filled: Tree): NormalizedConfig {
  const defaults: string[] = [];
  const walk = (w: unknown, f: unknown, at: PropertyKey[]): unknown => {
    if (Array.isArray(w) && Array.isArray(f) && w.length === f.length)
      return f.map((item, i) => walk(w[i], item, [...at, i]));
    if (!isMapping(w) || !isMapping(f)) return f;
    const keys = [...Object.keys(w).filter((k) => k in f), ...Object.keys(f).filter((k) => !(k in w))];
    return Object.fromEntries(
      keys
        .filter((k) => f[k] !== undefined)
        .map((k) => {
          if (!(k in w)) defaults.push(formatPath([...at, k]));
          return [k, walk(w[k], f[k], [...at, k])];
        }),
    );
  };
  return { value: walk(written, filled, []) as Tree, defaults };
}

const scalar = (v: unknown) => yaml.dump(v, { flowLevel: 0, lineWidth: -1 }).trimEnd();

/**
 * YAML of the normalized configuration, each default marked with a trailing `# default` (js-yaml
 * writes no comments, hence this small emitter; scalars and keys are still quoted by js-yaml).
 */
export function renderNormalizedYaml({ value, defaults }: NormalizedConfig): string {
  const marked = new Set(defaults);
  const emit = (v: unknown, at: PropertyKey[], indent: string): string[] => {
    const entries: [PropertyKey, unknown][] = Array.isArray(v)
      ? v.map((item, i) => [i, item])
      : Object.entries(v as Tree);
    return entries.flatMap(([key, child]) => {
      const path = [...at, key];
      const mark = marked.has(formatPath(path)) ? "  # default" : "";
      const nested = (isMapping(child) && Object.keys(child).length > 0) || (Array.isArray(child) && child.length > 0);
      if (typeof key === "number" && isMapping(child) && nested && !mark) {
        // A mapping in a list starts on the dash's line, as people write it.
        const [first, ...rest] = emit(child, path, `${indent}  `);
        return [`${indent}- ${first.trimStart()}`, ...rest];
      }
      const label = typeof key === "number" ? "-" : `${scalar(key)}:`;
      return nested
        ? [`${indent}${label}${mark}`, ...emit(child, path, `${indent}  `)]
        : [`${indent}${label} ${scalar(child)}${mark}`];
    });
  };
  return `${emit(value, [], "").join("\n")}\n`;
}
