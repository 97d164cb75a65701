import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ExperimentConfig } from "../config/load";
import { kollaConfigDirOf, PULUMI_HOME } from "../config/paths";
import type { Host, Reservation, TestbedNetwork } from "../config/types";
import { adminOpenrc } from "../kolla/commands";
import { shortHash } from "../kolla/install";
import { ChameleonBaremetalTestbed } from "../providers/chameleon";
import { G5kTestbed } from "../providers/g5k";
import { LocalTestbed } from "../providers/local";
import { OpenStackTestbed } from "../providers/openstack";
import { StaticTestbed } from "../providers/static";
import type { Testbed } from "../providers/testbed";
import { VagrantTestbed } from "../providers/vagrant";
import { readWorkload } from "../workloads/run-file";
import { Backup } from "./backup";
import { routeFor } from "./bench/client";
import { Benchmark } from "./benchmark";
import { localFile, phaseTimeout } from "./commands";
import { DevCloud, devCloudDir, devCloudHost, devCloudSource } from "./dev-cloud";
import { KollaDeployment } from "./kolla";
import { annotationsEnv, Monitoring } from "./monitoring";
import { NetworkEmulation } from "./network-emulation";
import { OpenStackInit } from "./openstack-init";
import { renderKnownHosts, renderSshConfig } from "./ssh-config";

export interface ExperimentArgs {
  config: ExperimentConfig;
  stack: string;
  /** The project's state directory: keys, generated files. */
  stateDir: string;
  /** Where results go: results/<stack>. */
  resultsDir: string;
}

/** The one place that knows both the testbeds and the phases. */
export class Experiment extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:Experiment";
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  public readonly reservations?: pulumi.Output<Reservation[]>;
  public readonly sshConfig: pulumi.Output<string>;
  public readonly networkEmulation?: NetworkEmulation;
  public readonly monitoring?: Monitoring;
  public readonly kolla?: KollaDeployment;
  public readonly devCloud?: DevCloud;
  public readonly init?: OpenStackInit;
  public readonly benchmark?: Benchmark;

  constructor(name: string, args: ExperimentArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Experiment.__pulumiType, name, {}, opts);
    // Read before any resource exists: a wrong run.yml must leave nothing behind.
    const workload = args.config.workload === undefined ? undefined : readWorkload(args.config.workload);
    const dir = path.join(args.stateDir, args.stack);
    const learntHosts = path.join(dir, "known_hosts.learnt");
    const testbed = createTestbed(args, learntHosts, this);
    this.hosts = testbed.hosts;
    this.network = testbed.network;
    this.reservations = testbed.reservations;

    const knownHosts = localFile(
      "known-hosts",
      {
        path: path.join(dir, "known_hosts"),
        content: this.hosts.apply(renderKnownHosts),
      },
      { parent: this },
    );
    const { command: sshConfig, path: sshConfigPath } = localFile(
      "ssh-config",
      {
        path: path.join(dir, "ssh_config"),
        content: this.hosts.apply((hosts) => renderSshConfig(hosts, path.join(dir, "known_hosts"), learntHosts)),
      },
      { parent: this, dependsOn: [knownHosts.command] },
    );
    this.sshConfig = sshConfigPath;

    const { networkConstraints: constraints, timeouts } = args.config;

    // Monitoring's containers need a container engine: on a fresh host, Kolla's bootstrap-servers installs
    // it, so in deploy mode they start right after that step, before the rest of the deploy (whose
    // annotations thus land in InfluxDB). Otherwise (no Docker: the local testbed, check mode) before Kolla.
    const kollaMode = args.config.kollaMode;
    const kollaDir = kollaConfigDirOf(args.stateDir, args.stack);
    const monitoringMode = args.config.provider.type === "local" || kollaMode === "check" ? "check" : "deploy";
    const vips = this.network.apply((testbedNetwork) => testbedNetwork.vips);
    const startMonitoring = (engine?: pulumi.Resource) =>
      new Monitoring(
        "monitoring",
        {
          hosts: this.hosts,
          vips,
          sshConfig: this.sshConfig,
          mode: monitoringMode,
        },
        {
          parent: this,
          dependsOn: [sshConfig, ...(engine ? [engine] : [])],
          transformations: [phaseTimeout(timeouts.monitoring)],
        },
      );
    const afterEngine = args.config.enableMonitoring && kollaMode === "deploy";
    let monitoring = args.config.enableMonitoring && !afterEngine ? startMonitoring() : undefined;

    this.kolla =
      kollaMode === "none"
        ? undefined
        : new KollaDeployment(
            "kolla",
            {
              hosts: this.hosts,
              network: this.network,
              sshConfig: this.sshConfig,
              config: { ...args.config, kollaMode },
              configDir: kollaDir,
              ansibleEnv: args.config.enableMonitoring ? annotationsEnv(monitoringMode, vips) : undefined,
              withEngine: afterEngine ? (engine) => (monitoring = startMonitoring(engine)) : undefined,
            },
            {
              parent: this,
              dependsOn: [sshConfig, ...(monitoring ? [monitoring] : [])],
              transformations: [phaseTimeout(timeouts.kolla)],
            },
          );
    this.monitoring = monitoring;

    // Debian's OpenStack stands in for the deploy that check mode cannot do (local testbed only).
    const cloudDir = devCloudDir(args.stack, args.stateDir);
    const namespaces = testbed.namespaces;
    if (args.config.devCloud && namespaces && this.kolla) {
      const control = this.hosts.apply(devCloudHost);
      this.devCloud = new DevCloud(
        "dev-cloud",
        {
          namespace: control.apply((host) => namespaces[host.alias]),
          address: control.apply((host) => host.address),
          dir: cloudDir,
          openrc: adminOpenrc(kollaDir),
        },
        { parent: this, dependsOn: [this.kolla], transformations: [phaseTimeout(timeouts.dev_cloud)] },
      );
    }
    const openrc = this.kolla?.adminOpenrc ?? this.devCloud?.adminOpenrc;

    // Without a deployment (check mode) init says it is skipped; benchmarks without OpenStack run
    // what needs none (Rally's Dummy scenarios).
    this.init =
      this.kolla &&
      new OpenStackInit(
        "init",
        {
          openrc,
          network: this.network,
          // Nothing can be downloaded here: the dev cloud makes a cirros-like image.
          image: this.devCloud ? path.join(cloudDir, "cirros.qcow2") : args.config.initImage,
          triggers: this.devCloud ? [this.devCloud.cloudId] : undefined,
        },
        { parent: this, dependsOn: [this.devCloud ?? this.kolla], transformations: [phaseTimeout(timeouts.init)] },
      );
    // As Enos applied tc after `os` and `init-os`: the deploy's image pulls and syncs do not go through
    // the shaped links, and the emulation's test measures the network alone.
    const openstackPhases = [this.kolla, this.devCloud, this.init].filter(
      (p): p is NonNullable<typeof p> => p !== undefined,
    );
    this.networkEmulation =
      constraints &&
      new NetworkEmulation(
        "tc",
        {
          hosts: this.hosts,
          aliases: testbed.aliases,
          groups: args.config.groups,
          constraints,
          sshConfig: this.sshConfig,
          stack: args.stack,
          reportDir: path.join(args.resultsDir, "tc"),
          vips,
        },
        { parent: this, dependsOn: [sshConfig, ...openstackPhases], transformations: [phaseTimeout(timeouts.tc)] },
      );
    // As in an Enos experiment, benchmarks run under the emulated network once it is measured
    // (depending on the component waits for its rules and its test), never while it is measured.
    this.benchmark =
      workload &&
      new Benchmark(
        "bench",
        {
          workload,
          resultsDir: args.resultsDir,
          runId: args.config.benchRunId,
          openrc,
          networkPlan: this.networkEmulation?.plan.apply((plan) => shortHash(plan)),
          conditions: {
            configuration: createHash("sha256").update(JSON.stringify(args.config.normalized.value)).digest("hex"),
            openstack: openrc
              ? { source: this.devCloud ? "dev cloud" : "kolla-ansible", globals: path.join(kollaDir, "globals.yml") }
              : null,
            tcReportDir: constraints?.enable && constraints.test ? path.join(args.resultsDir, "tc") : undefined,
          },
          // Where the VIPs are reachable from, as the testbed puts them (components/bench/client.ts).
          client: pulumi
            .all([this.hosts, this.sshConfig])
            .apply(([hosts, sshConfig]) => ({ route: routeFor(args.config.provider, hosts), sshConfig })),
        },
        {
          parent: this,
          dependsOn: [
            sshConfig,
            ...(this.init ? [this.init] : []),
            ...(this.networkEmulation ? [this.networkEmulation] : []),
          ],
          transformations: [phaseTimeout(timeouts.bench)],
        },
      );

    if (args.config.backupOnDestroy) {
      // Depends on the phases whose state it collects, so that destroy deletes it (running the backup)
      // before them. Not on the network emulation (nor the benchmarks under it), though the backup saves
      // the tc state too: enos tc --reset removes them and must leave it armed, where a dependent would
      // go with them. enos destroy deletes it first instead (see destroyBackingUpFirst).
      const phases = [this.monitoring, this.kolla, this.devCloud, this.init].filter(
        (p): p is NonNullable<typeof p> => p !== undefined,
      );
      new Backup(
        "backup",
        {
          hosts: this.hosts,
          sshConfig: this.sshConfig,
          stack: args.stack,
          resultsDir: args.resultsDir,
          influxdb: this.monitoring?.influxdb,
          devCloud:
            this.devCloud && this.hosts.apply((hostList) => devCloudSource(args.stack, hostList, args.stateDir)),
        },
        { parent: this, dependsOn: [testbed, sshConfig, ...phases], transformations: [phaseTimeout(timeouts.backup)] },
      );
    }

    // The full records, kept in the state (enos info --json reads them) rather than in the stack outputs.
    this.registerOutputs({
      hosts: this.hosts,
      network: this.network,
      sshConfig: this.sshConfig,
      tcPlan: this.networkEmulation?.plan,
      kollaPlan: this.kolla?.plan,
    });
  }
}

function createTestbed(args: ExperimentArgs, learntHosts: string, parent: pulumi.Resource): Testbed {
  const { provider, demands, staticHosts } = args.config;
  const opts = { parent };
  switch (provider.type) {
    case "local":
      return new LocalTestbed("testbed", { stack: args.stack, stateDir: args.stateDir, provider, demands }, opts);
    case "static":
      return new StaticTestbed("testbed", { provider, hosts: staticHosts, knownHostsFile: learntHosts }, opts);
    case "g5k":
      return new G5kTestbed(
        "testbed",
        { stack: args.stack, stateDir: args.stateDir, provider, demands, knownHostsFile: learntHosts },
        opts,
      );
    case "vagrant":
      return new VagrantTestbed(
        "testbed",
        { stack: args.stack, stateDir: args.stateDir, provider, demands, knownHostsFile: learntHosts },
        opts,
      );
    case "openstack":
    case "chameleonkvm":
      return new OpenStackTestbed(
        "testbed",
        { stack: args.stack, pulumiHome: PULUMI_HOME, provider, demands, knownHostsFile: learntHosts },
        opts,
      );
    case "chameleonbaremetal":
      return new ChameleonBaremetalTestbed(
        "testbed",
        { stack: args.stack, pulumiHome: PULUMI_HOME, provider, demands, knownHostsFile: learntHosts },
        opts,
      );
  }
}
