import * as path from "node:path";
import type { Command } from "commander";
import { clientRoute, describeAgentRoute, describeRoute } from "../components/bench/client";
import { readWorkload } from "../workloads/run-file";
import { exitWith, type GlobalOptions, settledStack, stackName, UsageError, update, validate } from "./context";

/** `enos bench`: the workload's benchmarks, as a targeted update (DIR becomes enos:workload). */
export function register(program: Command) {
  program
    .command("bench")
    .description("run the workload's benchmarks, after what they need (OpenStack, init, the emulated network)")
    .option("--workload <dir>", "the workload directory (its run.yml); it becomes the stack's enos:workload")
    .option("--reset", "run every benchmark again, even those whose inputs did not change")
    .option(
      "--plan",
      "dry run: the runs the workload's run.yml expands to, as JSON in execution order, with where each client runs",
    )
    .action(
      exitWith(async (options: { workload?: string; reset?: boolean; plan?: boolean }, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        if (options.plan) {
          if (!options.workload) throw new UsageError("bench --plan needs --workload DIR");
          const { runs } = readWorkload(path.resolve(options.workload));
          const route = clientRoute(validate(global).provider);
          const client = describeRoute(route);
          const agents = describeAgentRoute(route);
          console.log(
            JSON.stringify(
              runs.map((run) => (run.type === "shaker" ? { ...run, client, agents } : { ...run, client })),
              null,
              2,
            ),
          );
          return 0;
        }
        if (options.workload) {
          const stack = await settledStack(stackName(global, true), false, true);
          await stack.setConfig("enos:workload", { value: path.resolve(options.workload) });
        }
        return update(global, "bench", options.reset ? ["bench"] : []);
      }),
    );
}
