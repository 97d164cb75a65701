import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";
import { PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import {
  type EngineOptions,
  type ExperimentRecord,
  experimentRecord,
  openStack,
  pulumiCommand,
} from "../../cli/workspace";
import { experimentProgram } from "../../components/program";
import { removeEngine } from "../../providers/local/machine";
import { localNames } from "../../providers/local/plan";

/** The full records of a stack that is up (the stack outputs are short). */
export async function recordOf(stack: Stack): Promise<ExperimentRecord> {
  const record = await experimentRecord(stack);
  if (!record) throw new Error(`stack ${stack.name} holds no experiment`);
  return record;
}

/** Throwaway test stacks' secrets passphrase. */
export const TEST_PASSPHRASE = "enos-test";

/**
 * A stack of the real experiment program in a directory of its own (state, keys, Pulumi.<stack>.yaml),
 * without OpenStack unless the config sets kolla_mode.
 */
export interface TestExperiment {
  name: string;
  dir: string;
  stateDir: string;
  stack: Stack;
  setConfig(config: Record<string, unknown>): Promise<void>;
}

export async function testExperiment(
  name: string,
  config: Record<string, unknown>,
  dir?: string,
  engine: Pick<EngineOptions, "pulumiCommand"> = {},
): Promise<TestExperiment> {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), `enos-${name}-`));
  const stateDir = path.join(dir, "state");
  made.push({ name, stateDir });
  const pulumiCommand = await engineInOwnGroup(engine.pulumiCommand);
  const stack = await openStack(name, "enos", experimentProgram({ projectDir: dir, stateDir }), {
    pulumiCommand,
    stateDir,
    workDir: dir,
    passphrase: TEST_PASSPHRASE,
  });
  const experiment: TestExperiment = {
    name,
    dir,
    stateDir,
    stack,
    async setConfig(values) {
      const current = await stack.getAllConfig();
      for (const key of Object.keys(current).filter((k) => k.startsWith("enos:"))) await stack.removeConfig(key);
      // A test brings up the phases it exercises: Kolla only where it sets kolla_mode itself.
      await stack.setAllConfig(
        Object.fromEntries(
          Object.entries({ kolla_mode: "none", ...values }).map(([k, v]) => [
            `enos:${k}`,
            { value: typeof v === "string" ? v : JSON.stringify(v) },
          ]),
        ),
      );
    },
  };
  await experiment.setConfig(config);
  return experiment;
}

/** Where `text` shows in clear in a test experiment's state: "<resource name> inputs|outputs" for each. */
export function clearInState(experiment: TestExperiment, text: string): string[] {
  const file = path.join(experiment.stateDir, ".pulumi", "stacks", "enos", `${experiment.name}.json`);
  const resources: { urn: string; inputs?: object; outputs?: object }[] = JSON.parse(fs.readFileSync(file, "utf8"))
    .checkpoint.latest.resources;
  return resources.flatMap((r) =>
    (["inputs", "outputs"] as const)
      .filter((side) => JSON.stringify(r[side] ?? {}).includes(text))
      .map((side) => `${r.urn.split("::").pop()} ${side}`),
  );
}

const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" });

/** What the local testbed of a stack left on this machine: namespaces, links, sshd processes, files. */
export function leftovers(stackName: string, stateDir: string): string[] {
  const names = localNames(stackName);
  const namespaces = sh("ip netns list | awk '{print $1}'")
    .split("\n")
    .filter((n) => n.startsWith(names.namespacePrefix));
  const links = sh("ip -o link show | awk -F': ' '{print $2}'")
    .split("\n")
    .map((l) => l.split("@")[0])
    .filter((l) => l === names.apiBridge || l === names.externalBridge || l.startsWith(names.vethPrefix));
  const sshd = sshdProcesses(`${path.join(stateDir, stackName)}/`);
  const files = [path.join(stateDir, stackName), names.engineRunDir].filter((f) => fs.existsSync(f));
  // Machine hosts: their engine's processes (dockerd, containerd, shims name its directory), mounts and cgroups.
  const engine = pgrep(["-af", `${names.engineRunDir}/`]);
  const mounts = sh("awk '{print $5}' /proc/self/mountinfo")
    .split("\n")
    .filter((m) => m.startsWith(`${names.engineRunDir}/`) || m.startsWith(`${path.join(stateDir, stackName)}/`));
  const cgroups = sh(
    `ls -d /sys/fs/cgroup/${names.cgroupParent} /sys/fs/cgroup/*/${names.cgroupParent} 2>/dev/null || true`,
  )
    .split("\n")
    .filter(Boolean);
  return [
    ...namespaces.map((n) => `netns ${n}`),
    ...links.map((l) => `link ${l}`),
    ...[...sshd, ...engine].map((p) => `process ${p}`),
    ...files.map((f) => `file ${f}`),
    ...mounts.map((m) => `mount ${m}`),
    ...cgroups.map((c) => `cgroup ${c}`),
  ];
}

/** sshd processes started for hosts whose files are under stateDir (pgrep is run directly: no shell matches itself). */
export function sshdProcesses(stateDir: string): string[] {
  const result = spawnSync("pgrep", ["-af", `sshd -f ${stateDir}`], { encoding: "utf8" });
  return result.stdout.split("\n").filter(Boolean);
}

/** Destroys the stack and then removes by force anything still there, so a failing test leaks nothing. */
export async function cleanUp(experiment: TestExperiment): Promise<void> {
  try {
    await experiment.stack.destroy({ parallel: 64 });
  } catch {
    // Whatever the engine could not delete is removed below.
  }
  const names = localNames(experiment.name);
  if (leftovers(experiment.name, experiment.stateDir).some((l) => /^(file \/run|mount|cgroup)/.test(l))) {
    const dir = path.join(experiment.stateDir, experiment.name, "local", "engine");
    await removeEngine({
      dir,
      runDir: names.engineRunDir,
      cgroupParent: names.cgroupParent,
      tarball: "",
      fitRuntime: "",
    });
  }
  sh(`
    for ns in $(ip netns list | awk '{print $1}' | grep '^${names.namespacePrefix}' || true); do
      ip netns pids "$ns" | xargs -r kill -9; ip netns del "$ns"
    done
    ip link del ${names.apiBridge} 2>/dev/null || true
    ip link del ${names.externalBridge} 2>/dev/null || true`);
  fs.rmSync(experiment.dir, { recursive: true, force: true });
}

const pgrep = (args: string[]) => spawnSync("pgrep", args, { encoding: "utf8" }).stdout.split("\n").filter(Boolean);

/** What this test file made: the stacks of its experiments, and the process groups of its engine runs. */
const made: { name: string; stateDir: string }[] = [];
let wrapperDir: string | undefined;
/** The file each engine run's wrapper writes its session id (its pid) to. */
const engineSessions = () => {
  wrapperDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "enos-engine-"));
  return path.join(wrapperDir, "groups");
};

/**
 * A Pulumi CLI (the built one by default) whose every run leads a session of its own (setsid keeps
 * the pid: execa does not start it as a group leader), written down for the end-of-file check. The
 * engine starts each plugin in a process group of its own, so a group is not enough; its plugins,
 * dynamic providers and their commands all stay in its session (unless they daemonize, as sshd).
 */
export async function engineInOwnGroup(cli?: PulumiCommand): Promise<PulumiCommand> {
  const real = cli?.command ?? (await pulumiCommand()).command;
  const sessions = engineSessions();
  const root = fs.mkdtempSync(path.join(path.dirname(sessions), "cli-"));
  fs.mkdirSync(path.join(root, "bin"));
  fs.writeFileSync(
    path.join(root, "bin", "pulumi"),
    `#!/bin/sh\necho $$ >> '${sessions}'\nexec setsid '${real}' "$@"\n`,
    { mode: 0o755 },
  );
  return PulumiCommand.get({ root, skipVersionCheck: true });
}

/** A process's session id, from /proc (undefined once it is gone). */
function sessionOf(pid: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[3];
  } catch {
    return undefined;
  }
}

/** SIGKILLs every process of these sessions until none is left (a dying engine may still be starting one). */
async function killSessions(sessions: string[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const pids = sessions.length ? pgrep(["-s", sessions.join(",")]) : [];
    if (!pids.length) return;
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The pids of a stack's running `up` engines. */
export const enginePids = (stackName: string): string[] => pgrep(["-f", `pulumi up .*--stack ${stackName}( |$)`]);

/**
 * Kills (SIGKILL) a stack's running `up` engine with its whole session: plugins, dynamic providers and their commands.
 */
export async function killEngine(stackName: string): Promise<void> {
  const own = sessionOf(String(process.pid));
  const sessions = enginePids(stackName)
    .map(sessionOf)
    .filter((s): s is string => s !== undefined);
  if (sessions.includes(own!))
    throw new Error(`the engine of ${stackName} shares the tests' session: start it with engineInOwnGroup`);
  await killSessions(sessions);
}

/** Awaits `update`, killing the stack's engine (see killEngine) once `ready()` holds; the update must fail. */
export async function killUpdateWhen(stackName: string, update: Promise<unknown>, ready: () => boolean): Promise<void> {
  let killed = false;
  const timer = setInterval(() => {
    if (killed || !ready()) return;
    killed = true;
    void killEngine(stackName);
  }, 50);
  try {
    await assert.rejects(update);
  } finally {
    clearInterval(timer);
  }
  assert.ok(killed, `the engine of ${stackName} was killed mid-update`);
}

/**
 * What this file's tests left on the machine once they are done: processes of its engine runs'
 * sessions (plugins, dynamic providers, their commands), and its stacks' namespaces, links (with
 * their tc rules) and sshd processes. Processes get a few seconds to finish exiting.
 */
export async function machineLeftovers(): Promise<string[]> {
  const file = wrapperDir && engineSessions();
  const sessions = file && fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  const alive = () => (sessions.length ? pgrep(["-a", "-s", sessions.join(",")]) : []);
  for (let i = 0; i < 50 && alive().length; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return [
    ...alive().map((p) => `engine process ${p}`),
    ...made.flatMap(({ name, stateDir }) => leftovers(name, stateDir).filter((l) => !l.startsWith("file"))),
  ];
}

// Under the test runner, every file using the harness fails when it leaves something behind.
if (process.env.NODE_TEST_CONTEXT) {
  after(async () => {
    const left = await machineLeftovers();
    if (wrapperDir) fs.rmSync(wrapperDir, { recursive: true, force: true });
    assert.deepEqual(left, [], `this test file left these behind:\n${left.join("\n")}`);
  });
}

/** Runs a command on a host through the stack's generated ssh_config. */
export function sshRun(sshConfig: string, alias: string, command: string): string {
  return execFileSync("ssh", ["-F", sshConfig, alias, command], { encoding: "utf8", timeout: 30_000 });
}
