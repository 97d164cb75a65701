import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ExperimentConfig } from "../config/load";
import type { Host, TestbedNetwork } from "../config/types";
import { ChameleonBaremetalTestbed } from "../providers/chameleon";
import { G5kTestbed } from "../providers/g5k";
import { LocalTestbed } from "../providers/local";
import { OpenstackTestbed } from "../providers/openstack";
import { VagrantTestbed } from "../providers/vagrant";
import { StaticTestbed } from "../providers/static";
import { File } from "./file";
import { NetworkEmulation } from "./network-emulation";
import { renderKnownHosts, renderSshConfig } from "./ssh-config";

export interface ExperimentArgs {
  config: ExperimentConfig;
  stack: string;
  /** The project's state directory: keys, generated files. */
  stateDir: string;
  /** Where results go: results/<stack>. */
  resultsDir: string;
}

/** What every testbed component exposes to the phases. */
interface Testbed extends pulumi.ComponentResource {
  hosts: pulumi.Output<Host[]>;
  network: pulumi.Output<TestbedNetwork>;
  aliases: string[];
}

/** The one place that knows both the testbeds and the phases. */
export class Experiment extends pulumi.ComponentResource {
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  public readonly sshConfig: pulumi.Output<string>;
  public readonly networkEmulation?: NetworkEmulation;

  constructor(name: string, args: ExperimentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("enos:index:Experiment", name, {}, opts);
    const dir = path.join(args.stateDir, args.stack);
    const learntHosts = path.join(dir, "known_hosts.learnt");
    const testbed = createTestbed(args, learntHosts, this);
    this.hosts = testbed.hosts;
    this.network = testbed.network;

    const knownHosts = new File("known-hosts", {
      path: path.join(dir, "known_hosts"),
      content: this.hosts.apply(renderKnownHosts),
    }, { parent: this });
    const sshConfig = new File("ssh-config", {
      path: path.join(dir, "ssh_config"),
      content: this.hosts.apply((hosts) => renderSshConfig(hosts, path.join(dir, "known_hosts"), learntHosts)),
    }, { parent: this, dependsOn: [knownHosts] });
    this.sshConfig = sshConfig.path;

    const constraints = args.config.networkConstraints;
    this.networkEmulation = constraints && new NetworkEmulation("network-emulation", {
      hosts: this.hosts,
      aliases: testbed.aliases,
      groups: args.config.groups,
      constraints,
      sshConfig: this.sshConfig,
      stack: args.stack,
      reportDir: path.join(args.resultsDir, "tc"),
    }, { parent: this, dependsOn: [sshConfig] });

    this.registerOutputs({ hosts: this.hosts, network: this.network, sshConfig: this.sshConfig });
  }
}

function createTestbed(args: ExperimentArgs, learntHosts: string, parent: pulumi.Resource): Testbed {
  const { provider, demands, staticHosts } = args.config;
  const opts = { parent };
  // The engine's PULUMI_HOME (cli/workspace.ts), where plugins such as openstack's are installed.
  const pulumiHome = path.join(args.stateDir, "home");
  switch (provider.type) {
    case "local":
      return new LocalTestbed("testbed", { stack: args.stack, stateDir: args.stateDir, provider, demands }, opts);
    case "static":
      return new StaticTestbed("testbed", { provider, hosts: staticHosts, knownHostsFile: learntHosts }, opts);
    case "g5k":
      return new G5kTestbed("testbed", { stack: args.stack, stateDir: args.stateDir, provider, demands }, opts);
    case "vagrant":
      return new VagrantTestbed("testbed", { stack: args.stack, stateDir: args.stateDir, provider, demands, knownHostsFile: learntHosts }, opts);
    case "openstack":
    case "chameleonkvm":
      return new OpenstackTestbed("testbed", { stack: args.stack, pulumiHome, provider, demands, knownHostsFile: learntHosts }, opts);
    case "chameleonbaremetal":
      return new ChameleonBaremetalTestbed("testbed", { stack: args.stack, pulumiHome, provider, demands, knownHostsFile: learntHosts }, opts);
  }
}
