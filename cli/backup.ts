import * as path from "node:path";
import type { Command } from "commander";
import { runBackup } from "../components/backup/collect";
import { planBackup, summarize } from "../components/backup/plan";
import { devCloudSource } from "../components/dev-cloud";
import { influxdbSource } from "../components/monitoring/render";
import { resultsDirOf } from "../config/paths";
import { exitWith, type GlobalOptions, stackName, upRecord, validate } from "./context";
import { experimentDir } from "./workspace";

/** `enos backup`: every host's logs and state, collected now into one timestamped directory with an index. */
export function register(program: Command) {
  program
    .command("backup")
    .description(
      "collect every host's logs, /etc/kolla, docker and tc state (and InfluxDB, bench results), with an index; exits 1 when a host could not be reached",
    )
    .option("--backup_dir <dir>", "where the timestamped backup directories go (default results/<stack>/backup)")
    .option("--plan", "dry run: each host's archives as JSON, touching no host")
    .action(
      exitWith(async (options: { backup_dir?: string; plan?: boolean }, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const name = stackName(global);
        const config = validate({ ...global, file: undefined, stack: name });
        const { hosts, sshConfig } = await upRecord(name);
        const request = {
          stack: name,
          hosts,
          sshConfig,
          resultsDir: resultsDirOf(experimentDir(), name),
          backupDir: options.backup_dir && path.resolve(options.backup_dir),
          influxdb: config.enableMonitoring ? influxdbSource(hosts) : undefined,
          devCloud: config.devCloud ? devCloudSource(name, hosts) : undefined,
        };
        if (options.plan) {
          const plan = planBackup(request);
          console.log(
            JSON.stringify(
              {
                hosts: plan.hosts.map((h) => ({
                  alias: h.alias,
                  archives: h.archives.map(({ kind, file }) => ({ kind, file })),
                })),
                operator: plan.local,
              },
              null,
              2,
            ),
          );
          return 0;
        }
        const index = await runBackup(request);
        console.log(summarize(index));
        return index.failedHosts.length ? 1 : 0;
      }),
    );
}
