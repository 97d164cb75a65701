import * as pulumi from "@pulumi/pulumi";
import type { StaticHostDemand } from "../../config/load";
import type { ProviderConfig } from "../../config/schema";
import type { Host, TestbedNetwork } from "../../config/types";
import { testbedNetwork } from "../../config/vips";
import { probedFacts, StaticHostsProbe } from "../shared/probe";
import type { Testbed } from "../testbed";

export interface StaticTestbedArgs {
  provider: Extract<ProviderConfig, { type: "static" }>;
  hosts: StaticHostDemand[];
  /** Where host keys are learnt on first use (see StaticHostsProbe). */
  knownHostsFile: string;
}

/** Machines the user already has: checked over SSH, never released. */
export class StaticTestbed extends pulumi.ComponentResource implements Testbed {
  public static readonly __pulumiType = "enos:testbed:Static";
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  /** Host aliases, known before the hosts are probed. */
  public readonly aliases: string[];

  constructor(name: string, args: StaticTestbedArgs, opts?: pulumi.ComponentResourceOptions) {
    super(StaticTestbed.__pulumiType, name, {}, opts);
    const hosts = args.hosts.map((h) => ({ ...h, alias: h.alias ?? h.address }));
    this.aliases = hosts.map((h) => h.alias);
    const probe = new StaticHostsProbe(
      `${name}-probe`,
      {
        hosts: hosts.map(({ alias, address, user, port, keyfile }) => ({ alias, address, user, port, keyfile })),
        eths: args.provider.eths,
        knownHostsFile: args.knownHostsFile,
      },
      { parent: this },
    );

    this.hosts = probe.probed.apply((probed) =>
      hosts.map(
        (h, i): Host => ({
          alias: h.alias,
          address: h.address,
          user: h.user,
          port: h.port,
          keyfile: h.keyfile,
          roles: h.roles,
          groups: h.groups,
          extra: h.extra,
          ...probedFacts(probed[i]),
        }),
      ),
    );
    const { extra_ips: extraIps, start, end, cidr, gateway, dns } = args.provider.network;
    this.network = pulumi.output(testbedNetwork(extraIps, { start, end, cidr, gateway, dns }, args.provider.eths));
    this.registerOutputs({ hosts: this.hosts, network: this.network });
  }
}
