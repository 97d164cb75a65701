import * as path from "node:path";
import { local } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_DIR } from "../config/paths";
import type { Host } from "../config/types";
import type { Vips } from "../config/vips";
import { BASH, replacedFirst } from "./commands";
import {
  callbackEnv,
  grafanaUrl,
  influxdbSource,
  influxdbUrl,
  type MonitoringMode,
  type PlaybookRun,
  renderDeployScript,
  renderRemoveScript,
} from "./monitoring/render";

export interface MonitoringArgs {
  hosts: pulumi.Input<Host[]>;
  /** The testbed's VIPs: InfluxDB and Grafana serve at theirs, as in Enos. */
  vips: pulumi.Input<Vips>;
  /** The experiment's ssh_config (every host reachable by alias and address). */
  sshConfig: pulumi.Input<string>;
  /** config.kollaMode: check where no Docker engine can start the containers (the dev stack). */
  mode: MonitoringMode;
}

/** What enables the annotations callback in another Ansible run; nothing in check mode, where no InfluxDB listens. */
export const annotationsEnv = (
  mode: MonitoringMode,
  vips: pulumi.Input<Vips>,
): pulumi.Output<Record<string, string>> | undefined =>
  mode === "deploy" ? pulumi.output(vips).apply((resolved) => callbackEnv(influxdbUrl(resolved))) : undefined;

/**
 * Enos' monitoring stack, deployed by the project's playbook once the hosts have a container
 * engine and before the rest of the Kolla deploy, so that the annotations of that deploy land in
 * InfluxDB; deleting it removes the containers.
 */
export class Monitoring extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:Monitoring";
  /** Where Grafana serves; undefined in check mode, which starts no container. */
  public readonly grafanaUrl?: pulumi.Output<string>;
  /**
   * Environment enabling the annotations callback in any other Ansible run (kolla-ansible's); undefined in check mode,
   * where no InfluxDB listens.
   */
  public readonly ansibleEnv?: pulumi.Output<Record<string, string>>;
  /** Where the InfluxDB runs, for the backup's snapshot of its data. */
  public readonly influxdb: pulumi.Output<{ alias: string; container: string }>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Monitoring.__pulumiType, name, {}, opts);
    const hosts = pulumi.output(args.hosts);
    const vips = pulumi.output(args.vips);
    const run = pulumi.all([hosts, vips, args.sshConfig]).apply(
      ([hostList, vipAddresses, sshConfig]): PlaybookRun => ({
        hosts: hostList,
        vips: vipAddresses,
        sshConfig,
        venv: path.join(PROJECT_DIR, ".venv"),
      }),
    );
    const deploy = run.apply((monitoringRun) => renderDeployScript(monitoringRun, args.mode));
    new local.Command(
      name,
      {
        create: deploy,
        // A changed host list re-runs the playbook in place (it replaces the containers itself).
        update: deploy,
        delete: args.mode === "deploy" ? run.apply(renderRemoveScript) : undefined,
        interpreter: BASH,
      },
      replacedFirst({ parent: this }),
    );
    this.grafanaUrl = args.mode === "deploy" ? vips.apply(grafanaUrl) : undefined;
    this.ansibleEnv = annotationsEnv(args.mode, vips);
    this.influxdb = hosts.apply(influxdbSource);
    this.registerOutputs({ grafanaUrl: this.grafanaUrl, ansibleEnv: this.ansibleEnv, influxdb: this.influxdb });
  }
}
