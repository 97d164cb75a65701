import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ProviderConfig } from "../../config/schema";
import { planSlots, slotHost } from "../../config/slots";
import type { Host, RoleDemand, TestbedNetwork } from "../../config/types";
import { probedFacts, StaticHostsProbe } from "../shared/probe";
import type { Testbed } from "../testbed";
import { VagrantMachines } from "./machines";
import { planMachines, renderVagrantfile, vagrantNetwork } from "./render";

export interface VagrantTestbedArgs {
  stack: string;
  stateDir: string;
  provider: Extract<ProviderConfig, { type: "vagrant" }>;
  demands: RoleDemand[];
  knownHostsFile: string;
}

/**
 * Virtual machines made by Vagrant (virtualbox or libvirt) from a Vagrantfile enos writes, one per
 * role slot, sized by their bucket, on two private networks; then probed over SSH on their API
 * address like static hosts.
 */
export class VagrantTestbed extends pulumi.ComponentResource implements Testbed {
  public static readonly __pulumiType = "enos:testbed:Vagrant";
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  public readonly aliases: string[];

  constructor(name: string, args: VagrantTestbedArgs, opts?: pulumi.ComponentResourceOptions) {
    super(VagrantTestbed.__pulumiType, name, {}, opts);
    const p = args.provider;
    const machines = planned(() => planMachines(planSlots(args.demands)), this);
    this.aliases = machines.map((m) => m.alias);
    const vms = new VagrantMachines(
      `${name}-machines`,
      {
        dir: path.join(args.stateDir, args.stack, "vagrant"),
        vagrantfile: renderVagrantfile(machines, p.box, p.backend, p.user),
        backend: p.backend,
        names: this.aliases,
      },
      { parent: this },
    );
    const network = vagrantNetwork();
    const probe = new StaticHostsProbe(
      `${name}-probe`,
      {
        hosts: vms.keys.apply((keys) =>
          machines.map((m) => ({ alias: m.alias, address: m.apiIp, user: p.user, keyfile: keys[m.alias] })),
        ),
        eths: network.eths,
        knownHostsFile: args.knownHostsFile,
      },
      { parent: this },
    );
    this.hosts = pulumi.all([probe.probed, vms.keys]).apply(([probed, keys]) =>
      machines.map(
        (m, i): Host => ({
          ...slotHost(m),
          address: m.apiIp,
          user: p.user,
          keyfile: keys[m.alias],
          extra: {},
          ...probedFacts(probed[i]),
          // The external interface carries no address (neutron takes it); NAT addresses are the same on every machine.
          ips: [m.apiIp],
        }),
      ),
    );
    this.network = pulumi.output(network);
    this.registerOutputs({ hosts: this.hosts, network: this.network });
  }
}

/** A plan the component cannot go on without: its error is the component's, reported against it. */
function planned<T>(plan: () => T, component: pulumi.Resource): T {
  try {
    return plan();
  } catch (error) {
    throw new pulumi.ResourceError((error as Error).message, component);
  }
}
