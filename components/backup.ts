import * as path from "node:path";
import { local } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../config/types";
import type { BackupRequest } from "./backup/collect";
import type { DevCloudSource, InfluxdbSource } from "./backup/plan";
import { BASH, replacedFirst } from "./commands";

export interface BackupArgs {
  hosts: pulumi.Input<Host[]>;
  /** The experiment's ssh_config (every host reachable by alias). */
  sshConfig: pulumi.Input<string>;
  stack: string;
  /** results/<stack>: backups go to its backup/<timestamp>/, benchmark results are taken from it. */
  resultsDir: string;
  /** The monitoring phase's InfluxDB, when monitoring is on. */
  influxdb?: pulumi.Input<InfluxdbSource>;
  /** The dev cloud, when on: its logs and configs. */
  devCloud?: pulumi.Input<DevCloudSource>;
}

/**
 * Backs the experiment up when it is destroyed (`enos:backup_on_destroy`): a command whose delete
 * runs the backup. It must depend on the testbed, the ssh config and every phase, so that Pulumi
 * deletes it first, while the hosts, their tc rules, containers and logs still exist.
 */
export class Backup extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:Backup";

  constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Backup.__pulumiType, name, {}, opts);
    const request = pulumi
      .all([args.hosts, args.sshConfig, args.influxdb, args.devCloud])
      .apply(([hosts, sshConfig, influxdb, devCloud]) =>
        JSON.stringify({
          stack: args.stack,
          sshConfig,
          resultsDir: args.resultsDir,
          influxdb,
          devCloud,
          hosts: hosts.map(({ alias, devices }) => ({ alias, devices })),
        } satisfies BackupRequest),
      );
    const armed = `echo "a backup goes to ${path.join(args.resultsDir, "backup")} when this stack is destroyed"`;
    new local.Command(
      `${name}-on-destroy`,
      {
        create: armed,
        // An update in place: a replacement would run the delete, i.e. take a backup nobody asked for.
        update: armed,
        delete: pulumi.interpolate`node ${path.join(__dirname, "backup", "collect.js")} /dev/stdin <<'JSON'\n${request}\nJSON`,
        interpreter: BASH,
      },
      replacedFirst({ parent: this }),
    );
    this.registerOutputs({});
  }
}
