import type { Command } from "commander";
import { destroy, exitWith, type GlobalOptions, stackName } from "./context";
import { phasesTargets } from "./targets";

/**
 * `enos destroy` as in Enos: OpenStack goes (Kolla's containers, init, benchmarks, monitoring, the
 * network emulation) and the testbed stays; --hard releases the testbed too (= pulumi destroy).
 */
export function register(program: Command) {
  program
    .command("destroy")
    .alias("down")
    .description(
      "tear OpenStack and every phase down, keeping the testbed; --hard releases everything (= pulumi destroy)",
    )
    .option("--hard", "release the testbed too: machines, reservation, namespaces")
    .option("--include-images", "kolla-ansible destroy also removes the container images")
    .action(
      exitWith(async (options: { hard?: boolean; includeImages?: boolean }, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const stack = stackName(global);
        const phases = options.hard ? undefined : phasesTargets(stack);
        return destroy(
          { ...global, stack, file: undefined },
          phases,
          options.includeImages ? { ENOS_KOLLA_DESTROY_OPTIONS: "--include-images" } : {},
        );
      }),
    );
}
