import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { ProviderConfig } from "../../config/schema";
import { planSlots, slotHost } from "../../config/slots";
import type { Host, RoleDemand, TestbedNetwork } from "../../config/types";
import { testbedNetwork } from "../../config/vips";
import { probedFacts, StaticHostsProbe } from "../shared/probe";
import { NO_NETWORK, Refusal, refusedOnError } from "../shared/refusal";
import type { Testbed } from "../testbed";
import { cloudIdentity, type OpenStackAuth, openstackAuth } from "./auth";
import { invokeErrorText, openstackCloudProblem } from "./cloud";
import { externalPool, securityRules } from "./plan";
import { openstackPluginProblem } from "./plugin";
import { OpenStackSweep } from "./sweep";

export type OpenStackProvider = Extract<ProviderConfig, { type: "openstack" | "chameleonkvm" | "chameleonbaremetal" }>;

export interface OpenStackTestbedArgs {
  stack: string;
  /** The engine's PULUMI_HOME, where its plugins are installed. */
  pulumiHome: string;
  provider: OpenStackProvider;
  demands: RoleDemand[];
  /** Where host keys are learnt when the hosts are first probed. */
  knownHostsFile: string;
  /** One flavor for every bucket (Chameleon's `baremetal`); else the bucket is the flavor. */
  flavor?: string;
  /** Blazar reservation id per bucket: instances are scheduled into it (chameleonbaremetal). */
  reservations?: pulumi.Output<Record<string, string>>;
}

/** The stack's `openstack:` key (read raw: a secret one is wrapped again where it is used). */
const openstackKey = (key: string) => pulumi.runtime.getConfig(`openstack:${key}`);

/** Why no OpenStack resource can be made (no plugin, no cloud), if so. */
export function openstackProblem(pulumiHome: string): string | undefined {
  return (
    openstackPluginProblem(pulumiHome) ??
    openstackCloudProblem(process.env, { authUrl: openstackKey("authUrl"), cloud: openstackKey("cloud") })
  );
}

/**
 * The credentials of the stack's cloud for enos' own calls (the plugin reads the same sources), or why there are none.
 */
export function stackOpenStackAuth(): { auth: OpenStackAuth } | { problem: string } {
  return openstackAuth(process.env, openstackKey);
}

interface SubnetFacts {
  cidr: string;
  gateway: string;
  poolEnd: string;
}

/**
 * Instances of an OpenStack under-cloud, one per role slot, with the flavor of its bucket, the
 * image and key pair given, on the experiment's network (made with a subnet and a router to the
 * external network when `configure_network`, else looked up by name), in a security group of
 * their own; five ports hold Kolla's VIPs. With `gateway`, the first host gets a floating IP and
 * every host is reached through it (ProxyJump). Hosts are then probed over SSH like static ones.
 */
export class OpenStackTestbed extends pulumi.ComponentResource implements Testbed {
  public static readonly __pulumiType = "enos:testbed:OpenStack";
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  public readonly aliases: string[];

  constructor(name: string, args: OpenStackTestbedArgs, opts?: pulumi.ComponentResourceOptions) {
    super(OpenStackTestbed.__pulumiType, name, {}, opts);
    const slots = planSlots(args.demands);
    this.aliases = slots.map((s) => s.alias);
    const problem = openstackProblem(args.pulumiHome);
    if (problem) {
      // Nothing else is made: preview and up stop at this resource with the problem.
      const missing = new Refusal(`${name}-openstack`, problem, { parent: this });
      this.hosts = missing.id.apply((): Host[] => []);
      this.network = missing.id.apply(() => NO_NETWORK);
      return;
    }
    const p = args.provider;
    const prefix = `enos-${args.stack}`;
    const child = { parent: this };
    // Made first, released last: its delete releases what an interrupted up made but did not record.
    const credentials = stackOpenStackAuth();
    if ("problem" in credentials) {
      pulumi.log.warn(
        `a destroy after an interrupted up may leave instances it had started: enos cannot read the cloud's credentials (${credentials.problem})`,
        this,
      );
    }
    const sweep = new OpenStackSweep(
      `${name}-sweep`,
      { auth: "auth" in credentials ? cloudIdentity(credentials.auth) : undefined, waitSeconds: 600 },
      child,
    );
    const made = { parent: this, dependsOn: [sweep] };
    const description = (what: string) => pulumi.interpolate`enos ${args.stack} ${what} ${sweep.marker}`;
    // The cloud's first answer: when it does not come (cloud down, wrong URL or credentials, no external
    // network), one Refusal says why, and the lookups after it are not made (each would fail on its own).
    const external = pulumi
      .output(
        openstack.networking.getNetwork({ external: true }, child).then(
          (n) => ({ id: n.id, name: n.name ?? n.id }),
          (error: Error) => ({ refusal: invokeErrorText(error.message) }),
        ),
      )
      .apply((found) =>
        "refusal" in found
          ? new Refusal(
              `${name}-cloud`,
              `the OpenStack cloud's external network could not be looked up: ${found.refusal}`,
              child,
            ).id.apply(() => ({ id: "", name: "" }))
          : found,
      );

    let networkId: pulumi.Output<string>;
    let subnetId: pulumi.Output<string>;
    let subnet: pulumi.Output<SubnetFacts>;
    let routerInterface: pulumi.Resource | undefined;
    if (p.configure_network) {
      const cidr = p.subnet.cidr ?? "10.87.23.0/24";
      const net = new openstack.networking.Network(
        `${name}-network`,
        { name: p.network.name, description: description("network"), adminStateUp: true },
        made,
      );
      const sub = new openstack.networking.Subnet(
        `${name}-subnet`,
        {
          name: p.subnet.name,
          description: description("subnet"),
          networkId: net.id,
          cidr,
          ipVersion: 4,
          dnsNameservers: p.dns_nameservers,
          allocationPools: [{ start: p.allocation_pool.start, end: p.allocation_pool.end }],
        },
        made,
      );
      const router = new openstack.networking.Router(
        `${name}-router`,
        { name: `${prefix}-router`, description: description("router"), externalNetworkId: external.id },
        made,
      );
      routerInterface = new openstack.networking.RouterInterface(
        `${name}-router-interface`,
        { routerId: router.id, subnetId: sub.id },
        child,
      );
      networkId = net.id;
      subnetId = sub.id;
      subnet = pulumi.output({ cidr, gateway: sub.gatewayIp, poolEnd: p.allocation_pool.end });
    } else {
      const net = external.apply(() => openstack.networking.getNetworkOutput({ name: p.network.name }, child));
      const sub = openstack.networking.getSubnetOutput({ name: p.subnet.name, networkId: net.id }, child);
      networkId = net.id;
      subnetId = sub.id;
      subnet = sub.apply((s) => ({
        cidr: s.cidr,
        gateway: s.gatewayIp,
        poolEnd: s.allocationPools[s.allocationPools.length - 1]?.end ?? s.gatewayIp,
      }));
    }

    const secgroup = new openstack.networking.SecGroup(
      `${name}-secgroup`,
      { name: `${prefix}-secgroup`, description: description("security group") },
      made,
    );
    for (const rule of securityRules(subnet.cidr)) {
      const { name: ruleName, ...fields } = rule;
      new openstack.networking.SecGroupRule(
        `${name}-secgroup-${ruleName}`,
        { direction: "ingress", ethertype: "IPv4", securityGroupId: secgroup.id, ...fields },
        child,
      );
    }
    // Every port takes its address from the subnet: a port made on a network without one has none, and
    // Nova refuses it ("requires a FixedIP"); naming the subnet also orders the port after it.
    const fixedIps = [{ subnetId }];
    const vips = [1, 2, 3, 4, 5].map(
      (i) =>
        new openstack.networking.Port(
          `${name}-vip-${i}`,
          {
            name: `${prefix}-vip-${i}`,
            description: description("VIP"),
            networkId,
            fixedIps,
            adminStateUp: true,
          },
          made,
        ),
    );

    // One port per host, in the security group: Terraform OpenStack v3 associates floating IPs with ports
    // only, and the port's address is the host's (an instance's accessIpV4 is whatever Nova picked).
    // Each may also carry the VIPs (as Enos set them): Neutron's anti-spoofing would otherwise drop
    // traffic to a VIP that keepalived moved onto the host.
    const allowedAddressPairs = vips.map((vip) => ({ ipAddress: vip.allFixedIps[0] }));
    const ports = slots.map(
      (slot) =>
        new openstack.networking.Port(
          `${name}-${slot.alias}-port`,
          {
            name: `${prefix}-${slot.alias}`,
            description: description(`${slot.alias} port`),
            networkId,
            fixedIps,
            adminStateUp: true,
            securityGroupIds: [secgroup.id],
            allowedAddressPairs,
          },
          made,
        ),
    );
    const instances = slots.map(
      (slot, i) =>
        new openstack.compute.Instance(
          `${name}-${slot.alias}`,
          {
            name: `${prefix}-${slot.alias}`,
            flavorName: args.flavor ?? slot.bucket,
            imageName: p.image_name,
            keyPair: p.key_name,
            networks: [{ port: ports[i].id }],
            schedulerHints: args.reservations?.apply((r) => [
              { additionalProperties: { reservation: r[slot.bucket] } },
            ]),
            metadata: { enos_experiment: sweep.marker },
          },
          made,
        ),
    );

    let jump: pulumi.Output<string> | undefined;
    const dependsOn: pulumi.Resource[] = [...instances];
    if (p.gateway) {
      const fip = new openstack.networking.FloatingIp(
        `${name}-gateway-ip`,
        { pool: external.name, description: description("gateway") },
        made,
      );
      // Neutron refuses the association until the subnet is routed to the external network.
      dependsOn.push(
        new openstack.networking.FloatingIpAssociate(
          `${name}-gateway-ip-association`,
          { floatingIp: fip.address, portId: ports[0].id },
          { ...child, dependsOn: routerInterface ? [routerInterface] : [] },
        ),
      );
      jump = pulumi.interpolate`${p.user}@${fip.address}`;
    }
    const targets = ports.map((port, i) =>
      pulumi.all([port.allFixedIps, jump ?? ""]).apply(([[address], via]) => ({
        alias: slots[i].alias,
        address,
        user: p.user,
        ...(via ? { jump: via } : {}),
      })),
    );
    const probe = new StaticHostsProbe(
      `${name}-probe`,
      {
        hosts: pulumi.all(targets),
        eths: [p.network_interface, p.network_interface],
        knownHostsFile: args.knownHostsFile,
        sshWaitTimeout: p.ssh_wait_timeout,
      },
      { parent: this, dependsOn },
    );

    this.hosts = pulumi.all([probe.probed, pulumi.all(targets)]).apply(([probed, hosts]) =>
      hosts.map(
        (target, i): Host => ({
          ...slotHost(slots[i]),
          address: target.address,
          user: p.user,
          extra: { ansible_become: p.user !== "root" },
          ...probedFacts(probed[i]),
          ...(target.jump ? { jump: target.jump } : {}),
        }),
      ),
    );
    // A subnet with no room for Kolla's external pool is only known once it is made or looked up.
    this.network = pulumi.all([subnet, pulumi.all(vips.map((v) => v.allFixedIps))]).apply(([facts, ips]) =>
      refusedOnError(
        `${name}-external-pool`,
        () =>
          testbedNetwork(
            ips.map((fixed) => fixed[0]),
            externalPool(facts.cidr, facts.poolEnd, facts.gateway, p.dns_nameservers[0]),
            [p.network_interface, p.network_interface],
          ),
        NO_NETWORK,
        child,
      ),
    );
    this.registerOutputs({ hosts: this.hosts, network: this.network });
  }
}
