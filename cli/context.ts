import * as fs from "node:fs";
import * as path from "node:path";
import { CommandError, type DiagnosticEvent, type Stack, type UpOptions } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { type ExperimentConfig, loadExperiment } from "../config/load";
import { findExperimentDir } from "../config/paths";
import { readStackFile } from "./stack-file";
import { KEPT_ON_REPLACE, type Phase, phaseTargets, targetsOf } from "./targets";
import {
  destroyBackingUpFirst,
  type ExperimentRecord,
  experimentDir,
  experimentRecord,
  experimentStateDir,
  initExperimentDir,
  openExperiment,
  recoverInterruptedUpdate,
} from "./workspace";

/** The options every verb takes (Enos' -f, -v/-vv, -s; --stack/-S for the Pulumi stack). */
export interface GlobalOptions {
  stack?: string;
  file?: string;
  verbose: number;
  silent?: boolean;
}

/** A verb's action: the exit code it resolves to becomes the process's (0 done, 1 failed, 2 usage). */
export const exitWith =
  <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
  async (...args: A): Promise<void> => {
    process.exitCode = await action(...args);
  };

/** A usage error: exit code 2. */
export class UsageError extends Error {}

/** The stack a verb works on; `-f FILE` makes the file the experiment (see experimentStackOf). */
export function stackName(options: GlobalOptions, create = false): string {
  return options.file ? experimentStackOf(options.file, options.stack, create) : (options.stack ?? "dev");
}

/**
 * `-f reservation.yaml`: the file is the experiment. Its stack is `--stack`, or one named after the
 * file; a stack that does not exist yet is created with `enos:reservationFile` pointing at the file.
 * An existing stack is used only if it already names that file: `-f` never changes another experiment.
 */
export function experimentStackOf(file: string, stack?: string, create = true): string {
  const reservation = path.resolve(file);
  if (!fs.existsSync(reservation)) throw new UsageError(`-f ${file}: no such file`);
  const name =
    stack ??
    path
      .basename(reservation)
      .replace(/\.ya?ml$/, "")
      .replace(/[^A-Za-z0-9_.-]/g, "-");
  // Enos' habit: the directory holding reservation.yaml is the experiment's. Outside any project it
  // becomes an experiment directory (its Pulumi.yaml runs this program), where its state and results go.
  if (create && !findExperimentDir(process.cwd()) && path.dirname(reservation) === process.cwd()) {
    console.error(`enos: ${initExperimentDir(process.cwd())}`);
  }
  const dir = experimentDir();
  const stackFile = path.join(dir, `Pulumi.${name}.yaml`);
  if (!fs.existsSync(stackFile)) {
    if (!create) throw new UsageError(`no stack for ${reservation} yet: enos deploy -f ${file} makes it`);
    // Relative inside the directory: an experiment kept in a repository works wherever it is cloned.
    const relative = path.relative(dir, reservation);
    const named = relative.startsWith("..") ? reservation : relative;
    fs.writeFileSync(stackFile, yaml.dump({ config: { "enos:reservationFile": named } }));
    console.error(`enos: new stack ${name} (${stackFile}) for ${reservation}`);
    return name;
  }
  const named = readStackFile(dir, name).reservationFile;
  if (typeof named !== "string" || path.resolve(dir, named) !== reservation) {
    throw new UsageError(
      `stack ${name} (${stackFile}) is another experiment${typeof named === "string" ? ` (reservationFile: ${named})` : ""}, ` +
        `not ${reservation}: pick another stack with --stack NAME, or leave --stack out to use one named after the file`,
    );
  }
  return name;
}

/** Validates without the engine: a reservation file alone (dry runs), or the stack's configuration. */
export function validate(options: GlobalOptions): ExperimentConfig {
  const stack = options.file
    ? { reservationFile: path.resolve(options.file) }
    : readStackFile(experimentDir(), options.stack ?? "dev");
  const config = loadExperiment({ stack, baseDir: options.file ? process.cwd() : experimentDir() });
  for (const warning of config.warnings) console.error(`warning: ${warning}`);
  return config;
}

/** The stack, with an interrupted update settled first (see recoverInterruptedUpdate). */
export async function settledStack(name: string, forDestroy: boolean, create = false): Promise<Stack> {
  const stack = await openExperiment(name, create);
  const settled = await recoverInterruptedUpdate(stack, experimentStateDir(), forDestroy);
  if (settled.length) console.error(`An earlier update was interrupted; settled: ${settled.join(", ")}`);
  return stack;
}

/** The records of a stack that is up; a usage error otherwise. */
export async function upRecord(name: string): Promise<ExperimentRecord> {
  const record = await experimentRecord(await openExperiment(name));
  if (!record) throw new UsageError(`stack ${name} is not up: run enos up --stack ${name} first`);
  return record;
}

type EngineOutput = Pick<UpOptions, "onOutput" | "onError" | "onEvent" | "debug" | "logVerbosity" | "logToStdErr">;

/** How much of the engine's progress a verb shows: -s none, default the progress, -v/-vv debug and engine logs. */
function engineOutput(options: GlobalOptions): EngineOutput {
  if (options.silent) return {};
  return {
    onOutput: (text: string) => process.stdout.write(text),
    ...(options.verbose >= 1 ? { debug: true } : {}),
    ...(options.verbose >= 2 ? { logVerbosity: 3, logToStdErr: true } : {}),
  };
}

/** An engine operation that failed, told by the engine's own errors. */
export class EngineError extends Error {}

/**
 * Runs one engine operation (up, preview, destroy) with the verb's output: the engine's stderr is
 * shown as it comes, even with -s. A failure becomes an EngineError naming each failing resource
 * with the engine's message for it (the Automation API's own says only `code: -2`, then everything).
 */
export async function withEngine<T>(
  options: GlobalOptions,
  operation: (output: EngineOutput) => Promise<T>,
): Promise<T> {
  const errors: DiagnosticEvent[] = [];
  let stderr = "";
  const output: EngineOutput = {
    ...engineOutput(options),
    onError: (text) => {
      stderr += text;
      process.stderr.write(text);
    },
    onEvent: (event) => {
      if (event.diagnosticEvent?.severity === "error") errors.push(event.diagnosticEvent);
    },
  };
  try {
    return await operation(output);
  } catch (error) {
    if (error instanceof CommandError) throw new EngineError(engineFailure(errors, stderr));
    throw error;
  }
}

/**
 * What a failed engine run says: each resource's error as `<type> <name>: <message>` (the stack's own
 * "update failed" adds nothing), or, when the engine failed before any resource, its stderr.
 */
export function engineFailure(errors: DiagnosticEvent[], stderr: string): string {
  const named = errors
    .filter((d) => d.urn && !d.urn.includes("::pulumi:pulumi:Stack::"))
    .map((d) => {
      const [, , type, name] = d.urn!.split("::");
      return `${type.split("$").pop()} ${name}: ${d.message.trim()}`;
    });
  const told = named.length ? named : errors.map((d) => d.message.trim());
  const said = told.length ? told.join("\n") : stderr.trim();
  return said || "the engine failed without saying why (rerun with -vv for its logs)";
}

/** URNs of the resources under the given phases but reservations and probes: for `replace` (force-deploy, bench --reset). */
export async function resourcesOf(stack: Stack, phases: Phase[]): Promise<string[]> {
  const patterns = phases.flatMap((phase) => phaseTargets(phase, stack.name)).map(globToRegExp);
  const kept = KEPT_ON_REPLACE.map(globToRegExp);
  const state = await stack.exportStack();
  return (state.deployment.resources ?? [])
    .filter((r: { custom?: boolean; urn: string }) => r.custom && patterns.some((p) => p.test(r.urn)))
    .map((r: { urn: string }) => r.urn)
    .filter((urn: string) => !kept.some((p) => p.test(urn)));
}

const globToRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split("**")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );

/**
 * An update of the whole stack (deploy), or of one verb's phases (and what they need); settles an
 * interrupted update first. The engine streams its progress; returns the exit code.
 */
export async function update(
  options: GlobalOptions,
  verb?: Parameters<typeof targetsOf>[0],
  replacePhases: Phase[] = [],
): Promise<number> {
  const name = stackName(options, true);
  validate({ ...options, file: undefined, stack: name });
  const stack = await settledStack(name, false, true);
  const replace = replacePhases.length ? await resourcesOf(stack, replacePhases) : undefined;
  const target = verb ? targetsOf(verb, name) : undefined;
  const result = await withEngine(options, (output) => stack.up({ ...output, parallel: 64, target, replace }));
  if (result.summary.result !== "succeeded") return 1;
  console.log(`\nnext: npx enos info --stack ${name}`);
  return 0;
}

/** Destroys the stack, or only `target` (and what cannot stay without it); settles an interrupted update first. */
export async function destroy(
  options: GlobalOptions,
  target?: string[],
  envVars: Record<string, string> = {},
): Promise<number> {
  const stack = await settledStack(stackName(options), true);
  // The engine passes its environment to the plugins, and so to the delete commands they run.
  Object.assign(stack.workspace.envVars, envVars);
  const result = await withEngine(options, (output) =>
    destroyBackingUpFirst(stack, { ...output, parallel: 64, target }),
  );
  return result.summary.result === "succeeded" ? 0 : 1;
}
