import * as pulumi from "@pulumi/pulumi";
import type { ProviderConfig } from "../../config/schema";
import type { Host, Reservation, RoleDemand, TestbedNetwork } from "../../config/types";
import { OpenStackTestbed, openstackProblem, stackOpenStackAuth } from "../openstack";
import { cloudIdentity } from "../openstack/auth";
import { Refusal } from "../shared/refusal";
import type { Testbed } from "../testbed";
import { BlazarLease, LeaseReady } from "./lease";
import { leaseReservations } from "./plan";

export interface ChameleonBaremetalArgs {
  stack: string;
  /** The engine's PULUMI_HOME, where its plugins are installed. */
  pulumiHome: string;
  provider: Extract<ProviderConfig, { type: "chameleonbaremetal" }>;
  demands: RoleDemand[];
  knownHostsFile: string;
}

/**
 * Chameleon bare metal: a Blazar lease of physical hosts per node type (the buckets of `resources`),
 * then the openstack testbed's instances on flavor `baremetal`, each scheduled into the reservation
 * of its node type.
 */
export class ChameleonBaremetalTestbed extends pulumi.ComponentResource implements Testbed {
  public static readonly __pulumiType = "enos:testbed:ChameleonBaremetal";
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  public readonly aliases: string[];
  /** The Blazar lease, said reused when it was found open by its name. */
  public readonly reservations: pulumi.Output<Reservation[]>;

  constructor(name: string, args: ChameleonBaremetalArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ChameleonBaremetalTestbed.__pulumiType, name, {}, opts);
    const p = args.provider;
    // No lease without the plugin or a cloud: no instance could be made in it (the instances report the problem).
    const leased = openstackProblem(args.pulumiHome) ? undefined : this.lease(name, p, args.demands, args.stack);
    const instances = new OpenStackTestbed(
      `${name}-instances`,
      {
        stack: args.stack,
        pulumiHome: args.pulumiHome,
        provider: p,
        demands: args.demands,
        knownHostsFile: args.knownHostsFile,
        flavor: "baremetal",
        reservations: leased?.ids,
      },
      { parent: this },
    );
    this.hosts = instances.hosts;
    this.network = instances.network;
    this.aliases = instances.aliases;
    this.reservations = leased?.held ? leased.held.apply((held) => [held]) : pulumi.output([]);
    this.registerOutputs({ hosts: this.hosts, network: this.network, reservations: this.reservations });
  }

  /** The lease (what it is, `held`), then its reservation id per node type once it is ACTIVE. */
  private lease(
    name: string,
    p: ChameleonBaremetalArgs["provider"],
    demands: RoleDemand[],
    stack: string,
  ): { ids: pulumi.Output<Record<string, string>>; held?: pulumi.Output<Reservation> } {
    const credentials = stackOpenStackAuth();
    if ("problem" in credentials) {
      const refusal = new Refusal(
        `${name}-lease`,
        `chameleonbaremetal needs OpenStack credentials to lease nodes: ${credentials.problem}`,
        { parent: this },
      );
      return { ids: refusal.id.apply((): Record<string, string> => ({})) };
    }
    const auth = cloudIdentity(credentials.auth);
    // Leases found open by this name are reused: a name of the stack's own keeps two stacks from sharing one.
    const leaseName = p.lease_name ?? `enos-${stack}`;
    const lease = new BlazarLease(
      `${name}-lease`,
      { auth, name: leaseName, walltime: p.walltime, reservations: leaseReservations(demands) },
      { parent: this },
    );
    const held = pulumi.all([lease.leaseId, lease.reused]).apply(([id, reused]): Reservation => {
      if (reused) pulumi.log.info(`Blazar lease ${id} (name ${leaseName}) reused: found open by its name`, this);
      return { reservation: `Blazar lease ${id}`, name: leaseName, reused: Boolean(reused) };
    });
    const ids = new LeaseReady(
      `${name}-lease-ready`,
      {
        auth,
        leaseId: lease.leaseId,
        nodeTypes: [...new Set(demands.map((d) => d.bucket))],
        pollSeconds: p.poll_interval,
        waitSeconds: p.wait_timeout,
      },
      { parent: this },
    ).reservations;
    return { ids, held };
  }
}
