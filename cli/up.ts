import type { Command } from "commander";
import { exitWith, type GlobalOptions, UsageError, update } from "./context";

/** `enos up`: acquire the testbed only. --force-deploy replaces its machines (a new reservation, fresh installs). */
export function register(program: Command) {
  program
    .command("up")
    .description("acquire the testbed only (machines, keys, ssh_config)")
    .option(
      "--force-deploy",
      "replace the testbed's machines even when nothing changed (new reservation, fresh install)",
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
