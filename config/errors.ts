import type { z } from "zod";
import { booleanSpellings } from "./yaml11";

/** One thing wrong with the configuration: where, and what to do about it. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(
      `the experiment configuration has ${problems.length} error(s):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** `enos:` keys are written as paths like network_constraints.constraints[0].delay. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    "",
  );
}

export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The closest known name, if one is close enough to be a typo. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const candidates = [...known];
  // An abbreviation (addr for address) is a better guess than a near spelling of another word.
  const extended = candidates.find((c) => word.length >= 3 && c.toLowerCase().startsWith(word.toLowerCase()));
  if (extended) return extended;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Every key name a schema accepts anywhere, to suggest a fix for a misspelt key. */
export function keyNames(schema: z.ZodType, into = new Set<string>(), seen = new Set<unknown>()): Set<string> {
  if (seen.has(schema)) return into;
  seen.add(schema);
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const children: unknown[] = [];
  if (def.shape) {
    for (const key of Object.keys(def.shape as object)) into.add(key);
    children.push(...Object.values(def.shape as object));
  }
  for (const field of ["innerType", "in", "out", "element", "valueType"]) if (def[field]) children.push(def[field]);
  for (const field of ["options", "items"]) if (Array.isArray(def[field])) children.push(...(def[field] as unknown[]));
  for (const child of children) keyNames(child as z.ZodType, into, seen);
  return into;
}

/**
 * A string key given an unquoted yes/no/on/off: YAML 1.1 (Enos' PyYAML, and config/yaml11.ts) made
 * it a boolean. The meaning is kept; the message says what happened and how to keep the word.
 */
function readAsBoolean(path: readonly PropertyKey[], found: boolean): string {
  const key = String([...path].reverse().find((k) => typeof k === "string") ?? "value");
  const { words, likely } = booleanSpellings(found);
  return (
    `expected a string, found the boolean ${found}: YAML 1.1 (as Enos' PyYAML) reads an unquoted ${words} as ${found}; ` +
    `quote it to keep the word, e.g. ${key}: "${likely}"`
  );
}

const expectsString = (issue: z.core.$ZodIssue) => issue.code === "invalid_type" && issue.expected === "string";

/** Turns zod's issues into problems that say what was expected, what was found, and the fix. */
export function problemsFrom(
  issues: readonly z.core.$ZodIssue[],
  prefix: PropertyKey[],
  known: Set<string>,
): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = formatPath([...prefix, ...issue.path]);
    const found = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case "unrecognized_keys":
        return issue.keys.map((key) => {
          const guess = closest(key, known);
          const fix = key.startsWith("ansible_")
            ? "Ansible variables of a host go under its extra: key"
            : guess
              ? `did you mean "${guess}"?`
              : "remove it or check its spelling in the documentation";
          return { path: formatPath([...prefix, ...issue.path, key]), message: `unknown key; ${fix}` };
        });
      case "invalid_type":
        if (typeof found === "boolean" && expectsString(issue))
          return [{ path, message: readAsBoolean([...prefix, ...issue.path], found) }];
        return [
          {
            path,
            message:
              found === undefined
                ? `missing; expected ${issue.expected}`
                : `expected ${issue.expected}, found ${describe(found)}`,
          },
        ];
      case "invalid_value":
        return [
          {
            path,
            message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, found ${describe(found)}`,
          },
        ];
      case "invalid_union": {
        // Report the branch that fits the shape of what was written (a host vs a list of hosts).
        const fitting = issue.errors.find(
          (branch) => !branch.every((i) => i.code === "invalid_type" && i.path.length === 0),
        );
        if (!fitting && typeof found === "boolean" && issue.errors.some((branch) => branch.some(expectsString))) {
          return [{ path, message: readAsBoolean([...prefix, ...issue.path], found) }];
        }
        return fitting
          ? problemsFrom(fitting as z.core.$ZodIssue[], [...prefix, ...issue.path], known)
          : [{ path, message: `${issue.message}, found ${describe(found)}` }];
      }
      case "invalid_key":
        return [{ path, message: `${issue.issues.map((i) => i.message).join("; ")}` }];
      default:
        return [{ path, message: found === undefined ? issue.message : `${issue.message} (found ${describe(found)})` }];
    }
  });
}
