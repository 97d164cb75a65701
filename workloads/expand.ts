import { createHash } from "node:crypto";
import type { ConfigProblem } from "../config/errors";
import type { BenchmarkType, RunFile } from "./run-file";

/** One benchmark run: a scenario with one element of its args' cartesian product. */
export interface BenchRun {
  type: BenchmarkType;
  name: string;
  /** As written: relative to the workload directory (rally), or a Shaker scenario alias. */
  file: string;
  args: Record<string, unknown>;
  /** Relative to the workload directory; null when the scenario has none. */
  plugin: string | null;
}

/** What rally and shaker scenarios have in common (shaker's have no args and no plugin). */
interface Scenario {
  name: string;
  file: string;
  enabled?: boolean;
  args?: Record<string, unknown>;
  plugin?: string;
}

/**
 * Every element of the cartesian product of the args, in Enos' order (the last key varies fastest).
 * A list is the values of its key; anything else is one value.
 */
export function cartesianProduct(args: Record<string, unknown>): Record<string, unknown>[] {
  return Object.entries(args).reduce<Record<string, unknown>[]>(
    (product, [key, value]) =>
      product.flatMap((partial) => (Array.isArray(value) ? value : [value]).map((v) => ({ ...partial, [key]: v }))),
    [{}],
  );
}

/**
 * The runs a run.yml expands to, in execution order (types, then scenarios, as written), with the
 * problems that make it unusable: a list with no value (the product would be empty) and two runs
 * that would write to the same results directory.
 */
export function expandWorkload(runFile: RunFile): { runs: BenchRun[]; problems: ConfigProblem[] } {
  const runs: BenchRun[] = [];
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  for (const type of Object.keys(runFile) as BenchmarkType[]) {
    const benchmark = runFile[type]!;
    benchmark.scenarios.forEach((scenario: Scenario, i) => {
      // Scenario-level values shadow the type's, `enabled` as a whole and `args` key by key.
      if (!(scenario.enabled ?? benchmark.enabled)) return;
      const scenarioArgs = scenario.args ?? {};
      const merged = { ...benchmark.args, ...scenarioArgs };
      for (const [key, value] of Object.entries(merged)) {
        if (Array.isArray(value) && value.length === 0) {
          const where = key in scenarioArgs ? `${type}.scenarios[${i}].args.${key}` : `${type}.args.${key}`;
          problems.push({
            path: where,
            message: `an empty list: scenario "${scenario.name}" would run zero times; give at least one value or remove the key`,
          });
        }
      }
      for (const element of cartesianProduct(merged)) {
        const run: BenchRun = {
          type,
          name: scenario.name,
          file: scenario.file,
          args: element,
          plugin: scenario.plugin ?? null,
        };
        const dir = runDir(run);
        const earlier = seen.get(dir);
        if (earlier) {
          problems.push({
            path: `${type}.scenarios[${i}].name`,
            message: `its run with args ${argsSlug(element)} writes to ${dir}, as ${earlier} does; give the scenarios different names`,
          });
        }
        seen.set(dir, `${type}.scenarios[${i}]`);
        runs.push(run);
      }
    });
  }
  return { runs, problems };
}

/** A file-name-safe form of a name or value. */
export function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "-";
}

/** `key-value` pairs in the args' order, e.g. `concurrency-2_times-50`; `default` with no args. */
export function argsSlug(args: Record<string, unknown>): string {
  const text =
    Object.entries(args)
      .map(([key, value]) => `${slug(key)}-${slug(typeof value === "string" ? value : JSON.stringify(value))}`)
      .join("_") || "default";
  // File names are at most 255 bytes; long args keep a readable head and a hash of the whole.
  return text.length <= 120
    ? text
    : `${text.slice(0, 100)}-${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
}

/** Where a run's results go, relative to results/<stack>: `<type>/<scenario>/<args-slug>`. */
export function runDir(run: BenchRun): string {
  return `${run.type}/${slug(run.name)}/${argsSlug(run.args)}`;
}
