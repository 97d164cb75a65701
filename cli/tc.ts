import * as path from "node:path";
import type { Command } from "commander";
import { shapedAddresses } from "../components/tc/addresses";
import { measureAndReport } from "../components/tc/measure";
import { type GroupRule, type HostPlan, planGroupRules } from "../components/tc/plan";
import { resultsDirOf } from "../config/paths";
import {
  destroy,
  exitWith,
  type GlobalOptions,
  resourcesOf,
  stackName,
  UsageError,
  update,
  upRecord,
  validate,
} from "./context";
import { tcResetTargets } from "./targets";
import { experimentDir, experimentRecord, openExperiment } from "./workspace";

/**
 * The emulation comes after the OpenStack phases (as Enos applied tc after os and init-os): on a stack
 * where they have not run, `enos tc` (an update of the tc phase alone) could not create them.
 */
async function requireOpenStackPhases(global: GlobalOptions): Promise<void> {
  const name = stackName(global);
  if (validate(global).kollaMode === "none" || (await resourcesOf(await openExperiment(name), ["os"])).length > 0)
    return;
  throw new UsageError(
    `network emulation comes after OpenStack, which stack ${name} does not have yet: ` +
      `run enos os and enos init (or enos deploy) first, or set kolla_mode: none for tc without OpenStack`,
  );
}

interface TcOptions {
  test?: boolean;
  reset?: boolean;
  plan?: boolean;
}

/** `enos tc`: the network emulation phase; --test measures it, --reset removes it, --plan prints it. */
export function register(program: Command) {
  program
    .command("tc")
    .description("apply the network emulation rules between the groups")
    .option("--test", "measure RTT, loss (fping) and rates (iperf3) between the groups; report in results/<stack>/tc")
    .option("--reset", "remove the rules (the next tc or deploy applies them again)")
    .option(
      "--plan",
      "dry run: every ordered group pair's rule as JSON, and with a stack that is up every host's rules",
    )
    .action(
      exitWith(async (options: TcOptions, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        if (options.reset) {
          // The benchmarks ran under these rules: they leave the state with them, their results stay in
          // results/, and the next bench or deploy runs them again.
          const code = await destroy(global, tcResetTargets(stackName(global)));
          if (code === 0)
            console.log(
              "network emulation removed; benchmarks that ran under it run again on the next enos bench or deploy",
            );
          return code;
        }
        if (!options.plan && !options.test) {
          await requireOpenStackPhases(global);
          return update(global, "tc");
        }
        const config = validate(global);
        if (!config.networkConstraints) throw new UsageError("this configuration has no network_constraints");
        const groupRules = planGroupRules(config.groups, config.networkConstraints);
        if (options.test) {
          const name = stackName(global);
          const record = await upRecord(name);
          const outDir = path.join(resultsDirOf(experimentDir(), name), "tc");
          const shaped = shapedAddresses(record.tcPlan ?? [], record.network.vips);
          const verdicts = await measureAndReport({
            stack: name,
            hosts: record.hosts,
            groupRules,
            sshConfig: record.sshConfig,
            outDir,
            shaped,
          });
          const failed = verdicts.filter((v) => !v.rtt.ok || !v.loss.ok || (v.rate && !v.rate.ok));
          console.log(
            `${verdicts.length - failed.length} of ${verdicts.length} group pairs pass; report: ${outDir}/report.md (and .json, .png)`,
          );
          return failed.length ? 1 : 0;
        }
        const plan: { groupRules: GroupRule[]; hosts?: HostPlan[] } = { groupRules };
        if (!global.file) {
          // What the phase applied (accurate mode adjusts the rules), not a plan made again here.
          const record = await experimentRecord(await openExperiment(stackName(global)));
          if (record?.tcPlan) plan.hosts = record.tcPlan;
        }
        console.log(JSON.stringify(plan, null, 2));
        return 0;
      }),
    );
}
