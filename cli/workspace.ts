import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  type DestroyOptions,
  type DestroyResult,
  LocalWorkspace,
  PulumiCommand,
  type PulumiFn,
  type Stack,
} from "@pulumi/pulumi/automation";
import { Backup } from "../components/backup";
import { Experiment } from "../components/experiment";
import type { HostPlan } from "../components/tc/plan";
import { CACHE_DIR, experimentDirOf, findExperimentDir, PROJECT_DIR, STATE_DIR, stateDirOf } from "../config/paths";

export { STATE_DIR };

/** The experiment directory the CLI works on (see experimentDirOf): its stack files, state and results. */
export const experimentDir = (): string => experimentDirOf(process.cwd());
/** That directory's state (local backend, passphrases, per-stack files); PULUMI_HOME stays the project's. */
export const experimentStateDir = (): string => stateDirOf(experimentDir());

/**
 * Makes `dir` an experiment directory: a Pulumi.yaml whose program is this installation's (Pulumi
 * runs `main` in its own directory, and passes Pulumi.yaml's directory to the program as its root:
 * see index.ts), and a .gitignore keeping the state (keys, passphrases) out of a repository. Says what
 * it wrote; leaves an existing file as it is.
 */
export function initExperimentDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const project = path.join(dir, "Pulumi.yaml");
  if (fs.existsSync(project) && findExperimentDir(dir) !== dir) {
    throw new Error(`${project} is another Pulumi project's: pick another directory for the experiment`);
  }
  const files = {
    [project]:
      `# An enos-pulumi experiment: its stacks (Pulumi.<stack>.yaml), state (.pulumi-state/) and results\n` +
      `# (results/) are here; its program is the installation in ${PROJECT_DIR} (bin/: enos, pulumi).\n` +
      `name: enos\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\n`,
    [path.join(dir, ".gitignore")]: ".pulumi-state/\n",
  };
  const written = Object.entries(files).filter(([file]) => !fs.existsSync(file));
  for (const [file, text] of written) fs.writeFileSync(file, text);
  if (written.length === 0) return `${dir} is an experiment directory already`;
  const names = written.map(([file]) => path.basename(file)).join(", ");
  return `${dir} is now an experiment directory (wrote ${names}): its stacks, state and results stay there`;
}

import type { Host, TestbedNetwork } from "../config/types";

/** Where setup builds the Pulumi CLI (bin/pulumi runs it with the project's settings). */
export const PULUMI_ROOT = path.join(
  CACHE_DIR,
  `pulumi-v${require(path.join(PROJECT_DIR, "package.json")).enos.pulumiCli}`,
);

export interface EngineOptions {
  /**
   * Directory holding the local file backend; default `<project>/.pulumi-state` (PULUMI_HOME is always the project's).
   */
  stateDir?: string;
  /** Directory the engine and the dynamic providers run in; default the project. */
  workDir?: string;
  /** The CLI to run; default the project's `bin/pulumi`. */
  pulumiCommand?: PulumiCommand;
  /** Secrets passphrase of a throwaway stack (tests); default: bin/pulumi's rule (see there). */
  passphrase?: string;
}

/**
 * The engine runs as `pulumi` does in a shell: through bin/pulumi, which sets the project's plugins,
 * backend and passphrase. Only the backend may differ (tests keep their state apart).
 */
function engineEnv(options: EngineOptions): Record<string, string> {
  const stateDir = options.stateDir ?? STATE_DIR;
  // The file backend refuses a directory that does not exist yet.
  fs.mkdirSync(stateDir, { recursive: true });
  return {
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    // The CLI built from Go modules is newer than the SDK's minimum; its version check reads no file.
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "1",
    ...(options.passphrase === undefined ? {} : { PULUMI_CONFIG_PASSPHRASE: options.passphrase }),
  };
}

/** The project's `pulumi` (bin/pulumi), as the Automation API runs it. */
export function pulumiCommand(): Promise<PulumiCommand> {
  return PulumiCommand.get({ root: PROJECT_DIR, skipVersionCheck: true });
}

/**
 * The experiment of a stack of this project: the same program, state and CLI as `pulumi up --stack
 * NAME`. Only an update or a preview makes a stack that does not exist yet.
 */
export async function openExperiment(stackName: string, create = false): Promise<Stack> {
  const args = { stackName, workDir: experimentDir() };
  const options = { pulumiCommand: await pulumiCommand(), envVars: engineEnv({ stateDir: experimentStateDir() }) };
  if (create) return LocalWorkspace.createOrSelectStack(args, options);
  try {
    return await LocalWorkspace.selectStack(args, options);
  } catch (error) {
    if (!/no stack named/.test(String(error))) throw error;
    throw new Error(
      `no stack ${stackName} in this project yet: enos deploy --stack ${stackName} (or pulumi up --stack ${stackName}) makes it`,
    );
  }
}

/** A stack whose program runs in this process (tests, and throwaway stacks of the CLI's tests). */
export async function openStack(
  stackName: string,
  projectName: string,
  program: PulumiFn,
  options: EngineOptions = {},
): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { stackName, projectName, program },
    {
      workDir: options.workDir ?? PROJECT_DIR,
      pulumiCommand: options.pulumiCommand ?? (await pulumiCommand()),
      envVars: engineEnv(options),
      secretsProvider: "passphrase",
    },
  );
}

/** What the Experiment component keeps in the state: the full records behind the short stack outputs. */
export interface ExperimentRecord {
  hosts: Host[];
  network: TestbedNetwork;
  sshConfig: string;
  tcPlan?: HostPlan[];
  kollaPlan?: Record<string, string[]>;
}

/** The experiment's records, once its testbed is up; undefined before. */
export async function experimentRecord(stack: Stack): Promise<ExperimentRecord | undefined> {
  const state = await stack.exportStack();
  const experiment = (state.deployment.resources ?? []).find(
    (r: { type: string }) => r.type === Experiment.__pulumiType,
  );
  return experiment?.outputs?.hosts ? experiment.outputs : undefined;
}

/**
 * A destroy (of `options.target`, or of everything), backup_on_destroy's command first when the stack
 * has it: its delete takes the backup while the network emulation, which it does not depend on (see
 * the Experiment), is still on. A failed backup stops the destroy.
 */
export async function destroyBackingUpFirst(stack: Stack, options: DestroyOptions): Promise<DestroyResult> {
  const resources: { urn: string }[] = (await stack.exportStack()).deployment.resources ?? [];
  const backup = resources.map((r) => r.urn).filter((urn) => urn.includes(Backup.__pulumiType));
  // Only a destroy that takes the backup's command with it (not tc --reset's) backs up.
  const backsUp = !options.target || options.target.some((pattern) => pattern.includes(Backup.__pulumiType));
  if (backsUp && backup.length > 0) await stack.destroy({ ...options, target: backup });
  return stack.destroy(options);
}

/** The id of a resource whose create was in flight: its provider knows it by its inputs only. */
const INTERRUPTED_CREATE = "interrupted-create";
/**
 * Type prefix of enos' own resources (dynamic providers), whose every provider can find what it made from its inputs.
 */
const ENOS_RESOURCE = "pulumi-nodejs:dynamic";

/**
 * An update killed mid-way leaves its lock and "pending operations" in the state (and, when the kill
 * lands in a checkpoint write, a checkpoint cut short), and the engine refuses to go on until they
 * are settled. A lock whose process is gone (on this machine) is stale and removed. Pending
 * operations are dropped, but what a create in flight made is not forgotten: its resource is kept
 * with its inputs as outputs and a placeholder id. Before a destroy, its delete releases it (deletes
 * work from the inputs: names, a job's name). Before an update or a preview, enos' own resources are
 * first looked for (a refresh: a Grid'5000 job or Blazar lease whose submission was in flight is
 * found by its name and kept, so no second one is submitted), then the rest is released (a half-made
 * local host is torn down) and the update makes it again. Commands in flight are run again (each is
 * idempotent); OpenStack's objects are released by the testbed's sweep (providers/openstack/sweep.ts),
 * their deletes needing the real id. Returns what it settled.
 */
export async function recoverInterruptedUpdate(stack: Stack, stateDir: string, forDestroy = false): Promise<string[]> {
  const settled: string[] = [];
  // A kill in the middle of a checkpoint write can leave the checkpoint or its metadata file (.attrs)
  // cut short, and a temporary file behind. The backend keeps the previous checkpoint (.bak) and does
  // without a missing .attrs.
  const stacksDir = path.join(stateDir, ".pulumi", "stacks", "enos");
  const checkpoint = path.join(stacksDir, `${stack.name}.json`);
  if (fs.existsSync(checkpoint) && !isJson(checkpoint) && isJson(`${checkpoint}.bak`)) {
    fs.copyFileSync(`${checkpoint}.bak`, checkpoint);
    fs.rmSync(`${checkpoint}.attrs`, { force: true });
    settled.push("a checkpoint cut short, replaced by the backend's backup of the previous one");
  }
  for (const file of fs.existsSync(stacksDir) ? fs.readdirSync(stacksDir) : []) {
    if (!file.startsWith(`${stack.name}.json`)) continue;
    const broken = file.endsWith(".tmp") || (file.endsWith(".attrs") && !isJson(path.join(stacksDir, file)));
    if (broken) {
      fs.rmSync(path.join(stacksDir, file));
      settled.push(`${file}, left cut short by the interruption`);
    }
  }
  const lockDir = path.join(stateDir, ".pulumi", "locks", "organization", "enos", stack.name);
  for (const file of fs.existsSync(lockDir) ? fs.readdirSync(lockDir) : []) {
    const lock: { pid: number; hostname: string } = JSON.parse(fs.readFileSync(path.join(lockDir, file), "utf8"));
    if (lock.hostname === os.hostname() && !processExists(lock.pid)) {
      fs.rmSync(path.join(lockDir, file));
      settled.push(`stale lock of process ${lock.pid}`);
    }
  }
  const state = await stack.exportStack();
  const pending: PendingOperation[] = state.deployment.pending_operations ?? [];
  if (pending.length === 0) return settled;
  delete state.deployment.pending_operations;
  const kept = pending.filter(
    (op) =>
      op.type === "creating" &&
      (forDestroy ? !op.resource.type.startsWith("openstack:") : op.resource.type.startsWith(ENOS_RESOURCE)),
  );
  state.deployment.resources = [
    ...(state.deployment.resources ?? []),
    ...kept.map((op) => ({ ...op.resource, id: INTERRUPTED_CREATE, outputs: op.resource.inputs })),
  ];
  await stack.importStack(state);
  settled.push(...pending.map((op) => `${op.type} of ${nameOf(op.resource.urn)}`));
  if (!forDestroy && kept.length > 0)
    settled.push(
      ...(await releaseInterruptedCreates(
        stack,
        kept.map((op) => op.resource.urn),
      )),
    );
  return settled;
}

/** Keeps what the providers find of creates in flight (see recoverInterruptedUpdate), releases the rest. */
async function releaseInterruptedCreates(stack: Stack, urns: string[]): Promise<string[]> {
  await stack.refresh({ target: urns });
  const resources: { urn: string; id: string }[] = (await stack.exportStack()).deployment.resources ?? [];
  const after = new Map(resources.filter((r) => urns.includes(r.urn)).map((r) => [r.urn, r.id]));
  const left = urns.filter((urn) => after.get(urn) === INTERRUPTED_CREATE);
  if (left.length > 0) await stack.destroy({ target: left });
  return urns.map(
    (urn) =>
      `${nameOf(urn)} ${
        !after.has(urn)
          ? "never made"
          : after.get(urn) === INTERRUPTED_CREATE
            ? "released"
            : `found (${after.get(urn)}) and kept`
      }`,
  );
}

const nameOf = (urn: string) => urn.split("::").pop();

interface PendingOperation {
  type: string;
  resource: { urn: string; type: string; inputs: Record<string, unknown> };
}

function isJson(file: string): boolean {
  try {
    JSON.parse(fs.readFileSync(file, "utf8"));
    return true;
  } catch {
    return false;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
