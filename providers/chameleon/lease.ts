import * as pulumi from "@pulumi/pulumi";
import { stackKeys } from "../openstack/api";
import type { CloudIdentity } from "../openstack/auth";
import { type BlazarSession, blazarCall, blazarSession, ENDED_LEASE_STATES, type LeaseView } from "./api";
import { leaseEnd, nodeTypeFilter } from "./plan";

/**
 * A Blazar lease of bare-metal hosts. As with Grid'5000 jobs, create only asks for the lease and
 * returns its id at once, so the lease is in the stack's state before anything waits on it; a
 * failed or interrupted up is released by destroy. A lease that has ended is replaced on the next up.
 * A lease asked for while the engine died has no id in the state: it is found by its name. An open
 * lease of the project that already carries the name is reused instead, as Enos did, when it reserves
 * the hosts asked (see leaseReuseProblem).
 * LeaseReady waits for it to be ACTIVE and reads the reservation id of each node type.
 * (A dynamic provider's code: ARCHITECTURE.md, "The serialization rule".)
 */
export interface BlazarLeaseInputs {
  /** Which cloud, user and project; the secret is read at each call (see cloudSession). */
  auth: CloudIdentity;
  name: string;
  walltime: string;
  reservations: {
    resource_type: string;
    min: number;
    max: number;
    hypervisor_properties: string;
    resource_properties: string;
  }[];
}

interface BlazarLeaseState extends BlazarLeaseInputs {
  leaseId: string;
  endDate: string;
  /** The lease was found open by its name and adopted, not asked for by this stack. */
  reused: boolean;
}

/** Blazar's end_date ("2026-11-25T05:00:00.000000") in the form create keeps. */
const keptDate = (date: string) => date.slice(0, 16).replace("T", " ");

/** `physical:host ["==","$node_type","storage"] x2, …`: host reservations, sorted. */
function reserving(reservations: { resource_type: string; resource_properties?: string; min?: number }[]): string {
  return reservations
    .map((r) => `${r.resource_type} ${r.resource_properties ?? ""} x${r.min}`)
    .sort()
    .join(", ");
}

/**
 * Why `lease`, an open lease found by the experiment's lease_name, cannot be reused as its
 * reservation, or undefined: it must reserve the hosts asked, node type by node type.
 */
export function leaseReuseProblem(lease: LeaseView, asked: BlazarLeaseInputs["reservations"]): string | undefined {
  const [holds, asks] = [reserving(lease.reservations), reserving(asked)];
  if (holds === asks) return undefined;
  return (
    `Blazar lease ${lease.name} (${lease.id}) is named like this experiment's lease ` +
    `but reserves ${holds || "nothing"} where it asks ${asks}; ` +
    `delete it (openstack reservation lease delete ${lease.id}) ` +
    "or give this experiment another provider.lease_name"
  );
}

/**
 * The lease named `name` of the session's project that still holds or awaits hosts, as Blazar lists
 * them; undefined if none. Two such leases are an error: which one is the stack's cannot be told.
 */
export async function findLeaseByName(blazar: BlazarSession, name: string): Promise<LeaseView | undefined> {
  const listed = (await blazarCall<{ leases: LeaseView[] }>(blazar, "GET", "leases"))!.leases;
  const named = listed.filter((lease) => lease.name === name && !ENDED_LEASE_STATES.includes(lease.status));
  if (named.length > 1) {
    throw new Error(
      `${named.length} Blazar leases named ${name} (${named.map((l) => l.id).join(", ")}): ` +
        "which one is this stack's cannot be told; delete the others (openstack reservation lease delete ID) and run again",
    );
  }
  return named[0];
}

const keys = stackKeys();

const leaseProvider: pulumi.dynamic.ResourceProvider = {
  configure: keys.configure,
  async create(inputs: BlazarLeaseInputs) {
    const session = await blazarSession(inputs.auth, keys.get);
    const open = await findLeaseByName(session, inputs.name);
    if (open) {
      const problem = leaseReuseProblem(open, inputs.reservations);
      if (problem) throw new Error(problem);
      return { id: open.id, outs: { ...inputs, leaseId: open.id, endDate: keptDate(open.end_date), reused: true } };
    }
    const endDate = leaseEnd(new Date(), inputs.walltime);
    const created = await blazarCall<{ lease: LeaseView }>(session, "POST", "leases", {
      name: inputs.name,
      start_date: "now",
      end_date: endDate,
      reservations: inputs.reservations,
      events: [],
    });
    return { id: created!.lease.id, outs: { ...inputs, leaseId: created!.lease.id, endDate, reused: false } };
  },

  async diff(_id: string, olds: BlazarLeaseState, news: BlazarLeaseInputs) {
    const replaces = (["name", "walltime"] as const).filter((k) => olds[k] !== news[k]);
    if (JSON.stringify(olds.reservations) !== JSON.stringify(news.reservations)) replaces.push("reservations" as never);
    if (replaces.length === 0 && olds.leaseId) {
      const view = await blazarCall<{ lease: LeaseView }>(
        await blazarSession(news.auth ?? olds.auth, keys.get),
        "GET",
        `leases/${olds.leaseId}`,
        undefined,
        true,
      );
      if (!view || ENDED_LEASE_STATES.includes(view.lease.status)) replaces.push("name");
    }
    const changes = replaces.length > 0 || JSON.stringify(olds.auth) !== JSON.stringify(news.auth);
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id: string, olds: BlazarLeaseState, news: BlazarLeaseInputs) {
    return { outs: { ...news, leaseId: olds.leaseId, endDate: olds.endDate, reused: olds.reused } };
  },

  /**
   * Only a lease asked for while the engine died is looked for (see recoverInterruptedUpdate); none found: none was
   * made.
   */
  async read(id: string, props: BlazarLeaseState) {
    if (props.leaseId) return { id, props };
    const lease = await findLeaseByName(await blazarSession(props.auth, keys.get), props.name);
    return lease ? { id: lease.id, props: { ...props, leaseId: lease.id, endDate: keptDate(lease.end_date) } } : {};
  },

  async delete(_id: string, props: BlazarLeaseState) {
    const session = await blazarSession(props.auth, keys.get);
    const leaseId = props.leaseId ?? (await findLeaseByName(session, props.name))?.id;
    if (!leaseId) return;
    const view = await blazarCall<{ lease: LeaseView }>(session, "GET", `leases/${leaseId}`, undefined, true);
    if (view && !ENDED_LEASE_STATES.includes(view.lease.status))
      await blazarCall(session, "DELETE", `leases/${leaseId}`, undefined, true);
  },
};

export class BlazarLease extends pulumi.dynamic.Resource {
  public readonly leaseId!: pulumi.Output<string>;
  public readonly endDate!: pulumi.Output<string>;
  public readonly reused!: pulumi.Output<boolean>;

  constructor(
    name: string,
    args: { [K in keyof BlazarLeaseInputs]: pulumi.Input<BlazarLeaseInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      leaseProvider,
      name,
      { ...args, leaseId: undefined, endDate: undefined, reused: undefined },
      { ...opts, additionalSecretOutputs: ["auth"] },
      "enos",
      "BlazarLease",
    );
  }
}

export interface LeaseReadyInputs {
  auth: CloudIdentity;
  leaseId: string;
  nodeTypes: string[];
  pollSeconds: number;
  waitSeconds: number;
}

async function waitActive(inputs: LeaseReadyInputs): Promise<Record<string, string>> {
  const session = await blazarSession(inputs.auth, keys.get);
  const deadline = Date.now() + inputs.waitSeconds * 1000;
  for (;;) {
    const view = await blazarCall<{ lease: LeaseView }>(session, "GET", `leases/${inputs.leaseId}`, undefined, true);
    if (!view) throw new Error(`Blazar lease ${inputs.leaseId} no longer exists; run up again to ask for a new one`);
    const lease = view.lease;
    if (ENDED_LEASE_STATES.includes(lease.status)) {
      throw new Error(
        `Blazar lease ${lease.name} (${lease.id}) is ${lease.status}; run up again to ask for a new lease, or destroy to release the stack`,
      );
    }
    if (lease.status === "ACTIVE") {
      const ids = Object.fromEntries(
        inputs.nodeTypes.map((t) => [
          t,
          lease.reservations.find((r) => r.resource_properties === nodeTypeFilter(t))?.id,
        ]),
      );
      const missing = inputs.nodeTypes.filter((t) => !ids[t]);
      if (missing.length)
        throw new Error(`Blazar lease ${lease.id} has no reservation for node type(s) ${missing.join(", ")}`);
      return ids as Record<string, string>;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `Blazar lease ${lease.id} still ${lease.status} after ${inputs.waitSeconds} s (provider.wait_timeout)`,
      );
    await new Promise((resolve) => setTimeout(resolve, inputs.pollSeconds * 1000));
  }
}

const readyProvider: pulumi.dynamic.ResourceProvider = {
  configure: keys.configure,
  async create(inputs: LeaseReadyInputs) {
    return { id: inputs.leaseId, outs: { ...inputs, reservations: await waitActive(inputs) } };
  },
  async diff(_id: string, olds: LeaseReadyInputs, news: LeaseReadyInputs) {
    const replace = olds.leaseId !== news.leaseId || JSON.stringify(olds.nodeTypes) !== JSON.stringify(news.nodeTypes);
    const changes =
      replace ||
      JSON.stringify([olds.auth, olds.pollSeconds, olds.waitSeconds]) !==
        JSON.stringify([news.auth, news.pollSeconds, news.waitSeconds]);
    return { changes, replaces: replace ? ["leaseId"] : [], deleteBeforeReplace: true };
  },
  async update(_id: string, olds: LeaseReadyInputs & { reservations: Record<string, string> }, news: LeaseReadyInputs) {
    return { outs: { ...news, reservations: olds.reservations } };
  },
};

export class LeaseReady extends pulumi.dynamic.Resource {
  /** node type -> reservation id, for the scheduler hint of the instances. */
  public readonly reservations!: pulumi.Output<Record<string, string>>;

  constructor(
    name: string,
    args: { [K in keyof LeaseReadyInputs]: pulumi.Input<LeaseReadyInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      readyProvider,
      name,
      { ...args, reservations: undefined },
      { ...opts, additionalSecretOutputs: ["auth"] },
      "enos",
      "BlazarLeaseReady",
    );
  }
}
