import type { Command } from "commander";
import { exitWith, type GlobalOptions, UsageError, update } from "./context";

/** `enos up`: acquire the testbed only. --force-deploy installs its machines again (the reservation is kept). */
export function register(program: Command) {
  program
    .command("up")
    .description("acquire the testbed only (machines, keys, ssh_config)")
    .option(
      "--force-deploy",
      "install the testbed's machines again even when nothing changed (same Grid'5000 job or Blazar lease)",
    )
    .option("-t, --tags <tags>", "Enos' playbook tags: refused here, since up runs no playbook (use them with enos os)")
    .action(
      exitWith(async (options: { forceDeploy?: boolean; tags?: string }, command: Command) => {
        if (options.tags)
          throw new UsageError(
            "up runs no Ansible playbook here (the testbed is a Pulumi resource): -t/--tags belongs to enos os",
          );
        return update(command.optsWithGlobals<GlobalOptions>(), "up", options.forceDeploy ? ["testbed"] : []);
      }),
    );
}
