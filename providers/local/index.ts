import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ProviderConfig } from "../../config/schema";
import { planSlots, slotHost } from "../../config/slots";
import type { Host, RoleDemand, TestbedNetwork } from "../../config/types";
import { SshKeyPair } from "../shared/keypair";
import type { Testbed } from "../testbed";
import { LocalHost } from "./host";
import { FIT_RUNTIME, MachineEngine, MachineHost, machineTarball } from "./machine";
import { LocalBridges } from "./network";
import { localNames, localNetwork } from "./plan";

export interface LocalTestbedArgs {
  stack: string;
  /** Where the stack's keys and host files live (under the project's state directory). */
  stateDir: string;
  provider: Extract<ProviderConfig, { type: "local" }>;
  demands: RoleDemand[];
}

/**
 * The dev testbed (needs root): hosts as network namespaces on this machine, each with its own sshd; or
 * (`hosts: machine`) as containers booting systemd, each with its own filesystem, sshd and Docker engine.
 */
export class LocalTestbed extends pulumi.ComponentResource implements Testbed {
  public static readonly __pulumiType = "enos:testbed:Local";
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  public readonly keyfile: string;
  /** Host aliases, known before the hosts exist. */
  public readonly aliases: string[];
  /** Each namespace host's network namespace, by alias (none for machine hosts). */
  public readonly namespaces: Record<string, string>;

  constructor(name: string, args: LocalTestbedArgs, opts?: pulumi.ComponentResourceOptions) {
    super(LocalTestbed.__pulumiType, name, {}, opts);
    const { api_cidr: apiCidr, external_cidr: externalCidr, user } = args.provider;
    const names = localNames(args.stack);
    const dir = path.join(args.stateDir, args.stack, "local");
    this.keyfile = path.join(args.stateDir, args.stack, "id_ed25519");

    const keyPair = new SshKeyPair(`${name}-ssh-key`, { file: this.keyfile }, { parent: this });
    const bridges = new LocalBridges(
      `${name}-bridges`,
      {
        apiBridge: names.apiBridge,
        externalBridge: names.externalBridge,
        apiCidr,
        externalCidr,
        dir,
      },
      { parent: this },
    );
    const network = localNetwork(apiCidr, externalCidr);

    const specs = planSlots(args.demands);
    this.aliases = specs.map((s) => s.alias);
    const machines = args.provider.hosts === "machine";
    this.namespaces = machines
      ? {}
      : Object.fromEntries(specs.map((s) => [s.alias, `${names.namespacePrefix}${s.alias}`]));
    // Made after the bridges and deleted before them: their delete removes the directory holding its data.
    const engine = machines
      ? new MachineEngine(
          `${name}-engine`,
          {
            dir: path.join(dir, "engine"),
            runDir: names.engineRunDir,
            cgroupParent: names.cgroupParent,
            tarball: machineTarball(),
            fitRuntime: FIT_RUNTIME,
          },
          { parent: this, dependsOn: [bridges] },
        )
      : undefined;
    const hosts = specs.map((spec) => {
      const common = {
        alias: spec.alias,
        dir,
        apiCidr,
        externalCidr,
        apiBridge: names.apiBridge,
        externalBridge: names.externalBridge,
        vethPrefix: names.vethPrefix,
        authorizedKey: keyPair.publicKey,
      };
      const host = engine
        ? new MachineHost(
            `${name}-${spec.alias}`,
            {
              ...common,
              user,
              dockerHost: engine.dockerHost,
              image: engine.image,
              fit: engine.fit,
              fitRuntime: FIT_RUNTIME,
            },
            { parent: this, dependsOn: [bridges, engine] },
          )
        : new LocalHost(
            `${name}-${spec.alias}`,
            { ...common, namespace: this.namespaces[spec.alias] },
            { parent: this, dependsOn: [bridges] },
          );
      return pulumi.all([host.address, host.externalAddress, host.hostKey, host.kernel]).apply(
        ([address, externalAddress, hostKey, kernel]): Host => ({
          ...slotHost(spec),
          address,
          user,
          port: 22,
          keyfile: this.keyfile,
          extra: { ansible_python_interpreter: "/usr/bin/python3" },
          interfaces: { api: network.eths[0], external: network.eths[1] },
          ips: [address, externalAddress],
          devices: [...network.eths],
          kernel,
          hostKey,
        }),
      );
    });
    this.hosts = pulumi.all(hosts);
    this.network = pulumi.output(network);
    this.registerOutputs({ hosts: this.hosts, network: this.network });
  }
}
