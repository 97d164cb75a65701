import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import { kollaCopyFor } from "../components/kolla";
import { kollaConfigDirOf } from "../config/paths";
import { ansibleConfig, renderManualScript } from "../kolla/commands";
import { exitWith, type GlobalOptions, stackName, UsageError, upRecord, validate } from "./context";
import { experimentStateDir } from "./workspace";

/**
 * kolla-ansible with a stack's inventory, globals.yml, passwords.yml and ssh_config, run by hand
 * (outside the graph: what it changes on the hosts is not Pulumi state). Returns its exit code.
 */
export async function runKollaAnsible(options: GlobalOptions, args: string[]): Promise<number> {
  const name = stackName(options);
  const config = validate({ ...options, file: undefined, stack: name });
  if (config.kollaMode === "none") throw new UsageError(`stack ${name} has no OpenStack (kolla_mode: none)`);
  const { sshConfig } = await upRecord(name);
  const run = { venv: kollaCopyFor(config).venv, configDir: kollaConfigDirOf(experimentStateDir(), name), sshConfig };
  const env = { ...process.env, ANSIBLE_CONFIG: ansibleConfig() };
  const result = spawnSync("bash", ["-c", renderManualScript(run, args)], { stdio: "inherit", env });
  return result.status ?? 1;
}

export function register(program: Command) {
  program
    .command("kolla")
    .description(
      "run kolla-ansible with the stack's inventory and configuration, e.g. enos kolla -- reconfigure --tags nova",
    )
    .argument("<args...>", "kolla-ansible's command and options, after --")
    .action(
      exitWith(async (args: string[], _options: object, command: Command) =>
        runKollaAnsible(command.optsWithGlobals<GlobalOptions>(), args),
      ),
    );
}
