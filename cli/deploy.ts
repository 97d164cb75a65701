import type { Command } from "commander";
import { exitWith, type GlobalOptions, update } from "./context";
import { ALL_PHASES } from "./targets";

/** `enos deploy`: `pulumi up` of everything the stack declares. */
export function register(program: Command) {
  program
    .command("deploy")
    .description(
      "everything the stack declares: testbed, monitoring, OpenStack, init, network emulation, benchmarks (= pulumi up)",
    )
    .option(
      "--force-deploy",
      "install the testbed's machines again (same job or lease) and run every phase again, even when nothing changed",
    )
    .action(
      exitWith(async (options: { forceDeploy?: boolean }, command: Command) =>
        update(command.optsWithGlobals<GlobalOptions>(), undefined, options.forceDeploy ? ALL_PHASES : []),
      ),
    );
}
