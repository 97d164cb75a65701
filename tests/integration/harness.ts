import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { EngineOptions, ExperimentRecord, experimentRecord, openStack } from "../../cli/workspace";
import { experimentProgram } from "../../index";
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
  name: string, config: Record<string, unknown>, dir?: string, engine: Pick<EngineOptions, "pulumiCommand"> = {},
): Promise<TestExperiment> {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), `enos-${name}-`));
  const stateDir = path.join(dir, "state");
  const stack = await openStack(name, "enos", experimentProgram({ projectDir: dir, stateDir }), { ...engine, stateDir, workDir: dir, passphrase: TEST_PASSPHRASE });
  const experiment: TestExperiment = {
    name, dir, stateDir, stack,
    async setConfig(values) {
      const current = await stack.getAllConfig();
      for (const key of Object.keys(current).filter((k) => k.startsWith("enos:"))) await stack.removeConfig(key);
      // A test brings up the phases it exercises: Kolla only where it sets kolla_mode itself.
      await stack.setAllConfig(Object.fromEntries(Object.entries({ kolla_mode: "none", ...values }).map(([k, v]) =>
        [`enos:${k}`, { value: typeof v === "string" ? v : JSON.stringify(v) }])));
    },
  };
  await experiment.setConfig(config);
  return experiment;
}

const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" });

/** What the local testbed of a stack left on this machine: namespaces, links, sshd processes, files. */
export function leftovers(stackName: string, stateDir: string): string[] {
  const names = localNames(stackName);
  const namespaces = sh("ip netns list | awk '{print $1}'").split("\n").filter((n) => n.startsWith(names.namespacePrefix));
  const links = sh("ip -o link show | awk -F': ' '{print $2}'").split("\n")
    .map((l) => l.split("@")[0]).filter((l) => l === names.apiBridge || l === names.externalBridge || l.startsWith(names.vethPrefix));
  const sshd = sshdProcesses(`${path.join(stateDir, stackName)}/`);
  const files = fs.existsSync(path.join(stateDir, stackName)) ? [path.join(stateDir, stackName)] : [];
  return [...namespaces.map((n) => `netns ${n}`), ...links.map((l) => `link ${l}`), ...sshd.map((p) => `process ${p}`), ...files.map((f) => `file ${f}`)];
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
  sh(`
    for ns in $(ip netns list | awk '{print $1}' | grep '^${names.namespacePrefix}' || true); do
      ip netns pids "$ns" | xargs -r kill -9; ip netns del "$ns"
    done
    ip link del ${names.apiBridge} 2>/dev/null || true
    ip link del ${names.externalBridge} 2>/dev/null || true`);
  fs.rmSync(experiment.dir, { recursive: true, force: true });
}

const pgrep = (args: string[]) => spawnSync("pgrep", args, { encoding: "utf8" }).stdout.split("\n").filter(Boolean);

/** Kills (SIGKILL) a stack's running `up` engine and its plugin processes (a killed engine orphans them), by pid. */
export function killEngine(stackName: string): void {
  const engines = pgrep(["-f", `pulumi up .*--stack ${stackName}( |$)`]);
  const descendants = (pid: string): string[] => pgrep(["-P", pid]).flatMap((child) => [child, ...descendants(child)]);
  for (const pid of [...engines, ...engines.flatMap(descendants)]) process.kill(Number(pid), "SIGKILL");
}

/** Runs a command on a host through the stack's generated ssh_config. */
export function sshRun(sshConfig: string, alias: string, command: string): string {
  return execFileSync("ssh", ["-F", sshConfig, alias, command], { encoding: "utf8", timeout: 30_000 });
}
