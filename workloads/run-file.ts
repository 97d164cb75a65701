import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { ConfigError, type ConfigProblem, describe, keyNames, problemsFrom } from "../config/errors";
import { loadYaml11 } from "../config/yaml11";
import { type BenchRun, expandWorkload } from "./expand";

/**
 * A workload's run.yml (Enos' format; docs/phases.md, Benchmarks): top keys are benchmark types, each with `enabled`,
 * `args` and `scenarios`. Read as Enos read it (YAML 1.1), validated here, expanded in expand.ts.
 */

const name = z.string().min(1);
// `args:` left empty in a file is YAML null; a value is one argument or a list of its values.
const args = z.preprocess((v) => v ?? {}, z.record(name, z.unknown()));

const rallyScenario = z.strictObject({
  name,
  /** A Rally task file, relative to the workload directory. */
  file: name,
  enabled: z.boolean().optional(),
  args: args.optional(),
  /** A plugin file or directory, relative to the workload directory, loaded with --plugin-paths. */
  plugin: name.optional(),
});

const shakerScenario = z.strictObject({
  name,
  /** One of Shaker's built-in scenario aliases, e.g. openstack/full_l2. */
  file: name,
  enabled: z.boolean().optional(),
});

const benchmarkType = <S extends z.ZodType>(scenario: S) =>
  z.strictObject({
    enabled: z.boolean().default(true),
    args: args.default({}),
    scenarios: z.array(scenario).min(1, { message: "expected at least one scenario" }),
  });

export const runFile = z.strictObject({
  rally: benchmarkType(rallyScenario).optional(),
  shaker: benchmarkType(shakerScenario).optional(),
});
export type RunFile = z.output<typeof runFile>;
export type BenchmarkType = keyof RunFile;
export type RallyScenario = z.output<typeof rallyScenario>;

/** A validated workload: its runs in execution order, and the directory their paths are relative to. */
export interface Workload {
  dir: string;
  runs: BenchRun[];
}

const KNOWN_KEYS = keyNames(runFile);

/** Problems are reported as `run.yml:<key path>`, so that they cannot be taken for stack keys. */
const inRunFile = (problem: ConfigProblem): ConfigProblem => ({
  ...problem,
  path: problem.path ? `run.yml:${problem.path}` : "run.yml",
});

/** `args` or `plugin` under a shaker scenario are rally keys: say what shaker takes instead of guessing a spelling. */
function shakerHint(problem: ConfigProblem): ConfigProblem {
  return /^shaker\.scenarios\[\d+\]\.(args|plugin)$/.test(problem.path)
    ? {
        ...problem,
        message: "unknown key; a shaker scenario takes name, file (one of Shaker's scenario aliases) and enabled",
      }
    : problem;
}

/**
 * Reads, validates and expands `<dir>/run.yml`; throws one ConfigError listing every problem,
 * including the files an enabled scenario names that do not exist (a disabled one may name a file
 * not yet written).
 */
export function readWorkload(dir: string): Workload {
  const file = path.join(dir, "run.yml");
  let data: unknown;
  try {
    data = loadYaml11(fs.readFileSync(file, "utf8"), file);
  } catch (error) {
    throw new ConfigError([{ path: "workload", message: `cannot read ${file}: ${(error as Error).message}` }]);
  }
  const parsed = runFile.safeParse(data ?? {}, { reportInput: true });
  if (!parsed.success)
    throw new ConfigError(problemsFrom(parsed.error.issues, [], KNOWN_KEYS).map(shakerHint).map(inRunFile));
  const problems: ConfigProblem[] = [];
  if (!parsed.data.rally && !parsed.data.shaker) {
    problems.push({
      path: "",
      message: `expected at least one benchmark type (rally, shaker), found ${data == null ? "an empty file" : describe(data)}`,
    });
  }
  parsed.data.rally?.scenarios.forEach((scenario, i) => {
    if (!(scenario.enabled ?? parsed.data.rally!.enabled)) return;
    for (const key of ["file", "plugin"] as const) {
      const file = scenario[key];
      if (file !== undefined && !fs.existsSync(path.resolve(dir, file))) {
        problems.push({
          path: `rally.scenarios[${i}].${key}`,
          message: `${path.resolve(dir, file)} does not exist; relative paths are relative to the workload directory ${dir}`,
        });
      }
    }
  });
  const { runs, problems: expansionProblems } = expandWorkload(parsed.data);
  problems.push(...expansionProblems);
  if (problems.length) throw new ConfigError(problems.map(inRunFile));
  return { dir, runs };
}
