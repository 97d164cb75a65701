import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { CACHE_DIR, PROJECT_DIR } from "../config/paths";

const versions: { pulumiCli: string } = require(path.join(PROJECT_DIR, "package.json")).enos;

export const PULUMI_ROOT = path.join(CACHE_DIR, `pulumi-v${versions.pulumiCli}`);

export interface EngineOptions {
  /** Directory holding the local file backend; default `<project>/.pulumi-state` (PULUMI_HOME is always the project's). */
  stateDir?: string;
  /** Directory the engine and the dynamic providers run in; default the project. */
  workDir?: string;
  /** The CLI to run; default the one scripts/setup built. */
  pulumiCommand?: PulumiCommand;
}

/**
 * The environment every engine run gets: a local file backend, no login, no update check, and no
 * attempt to download a plugin (nothing can be downloaded here; a missing plugin must fail fast).
 */
export function engineEnv(stateDir: string): Record<string, string> {
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    // One PULUMI_HOME per clone, whatever the backend: scripts/install-plugins puts the plugins there.
    PULUMI_HOME,
    PULUMI_SKIP_UPDATE_CHECK: "1",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "1",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "1",
    // The dynamic-provider shim finds @pulumi/pulumi, and serialized providers their modules, from here
    // whatever directory the engine runs in.
    NODE_PATH: path.join(PROJECT_DIR, "node_modules"),
  };
  // The dev stack's secrets are encrypted with a known passphrase unless the user brings their own.
  if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && process.env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
    env.PULUMI_CONFIG_PASSPHRASE = "enos-dev";
  }
  return env;
}

export async function pulumiCommand(): Promise<PulumiCommand> {
  if (!fs.existsSync(path.join(PULUMI_ROOT, "bin", "pulumi"))) {
    throw new Error(`the Pulumi CLI is not built yet (${PULUMI_ROOT}/bin/pulumi): run scripts/setup first`);
  }
  return PulumiCommand.get({ root: PULUMI_ROOT, skipVersionCheck: true });
}

/** Selects or creates a stack whose program runs in this process (see README: no nodejs language host). */
export async function openStack(
  stackName: string,
  projectName: string,
  program: () => Promise<Record<string, unknown> | void>,
  options: EngineOptions = {},
): Promise<Stack> {
  const stateDir = options.stateDir ?? STATE_DIR;
  const workDir = options.workDir ?? PROJECT_DIR;
  // The file backend opens its directory; it does not make it.
  fs.mkdirSync(stateDir, { recursive: true });
  return LocalWorkspace.createOrSelectStack(
    { stackName, projectName, program },
    {
      workDir,
      pulumiCommand: options.pulumiCommand ?? await pulumiCommand(),
      envVars: engineEnv(stateDir),
      secretsProvider: "passphrase",
    },
  );
}

/**
 * An update killed mid-way leaves its lock and "pending operations" in the state (and, when the kill
 * lands in a checkpoint write, a checkpoint cut short), and the engine refuses to go on until they
 * are settled. A lock whose process is gone (on this machine) is stale and
 * removed. Every enos resource's create is idempotent by name (a half-made host is torn down and made
 * again), so pending operations are dropped and the next update redoes them; before a destroy, creates
 * in flight are kept as resources so that their delete releases what they made. Returns what it settled.
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
  if (pending.length > 0) {
    delete state.deployment.pending_operations;
    if (forDestroy) {
      // Whatever a create in flight made must be released too: enos' deletes work from the inputs
      // (names), so the resource is kept with its inputs as outputs and a placeholder id.
      const creates = pending.filter((op) => op.type === "creating");
      state.deployment.resources = [
        ...(state.deployment.resources ?? []),
        ...creates.map((op) => ({ ...op.resource, id: "interrupted-create", outputs: op.resource.inputs })),
      ];
    }
    await stack.importStack(state);
    settled.push(...pending.map((op) => `${op.type} of ${op.resource.urn.split("::").pop()}`));
  }
  return settled;
}

interface PendingOperation {
  type: string;
  resource: { urn: string; inputs: Record<string, unknown> };
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

/** The state directory of the project: local backend and PULUMI_HOME. */
export const STATE_DIR = path.join(PROJECT_DIR, ".pulumi-state");
export const PULUMI_HOME = path.join(STATE_DIR, "home");
