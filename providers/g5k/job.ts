import * as pulumi from "@pulumi/pulumi";
import { stackKeys } from "../openstack/api";
import { ENDED_STATES, type G5kAccount, type G5kApi, g5kCall, type OarJobView } from "./api";
import { g5kApiNow } from "./credentials";
import { clusterOf } from "./plan";

/**
 * One OAR job on one site. Create only submits it and returns its uid at once, so the job is in the
 * stack's state before anything waits on it: whatever happens next (a failed or interrupted up),
 * destroy deletes it. A job that has ended (walltime reached, killed) is replaced on the next up. A job
 * whose submission was in flight when the engine died has no uid in the state: it is found by its name.
 * An open job of the user's that already carries the name is reused instead of submitting one, as Enos
 * did, once it runs and holds what the plan asks (see reuseProblem).
 * (A dynamic provider's code: ARCHITECTURE.md, "The serialization rule".)
 */
export interface OarJobInputs {
  /** Which API; the credentials are read at each call (see g5kApiNow). */
  api: G5kAccount;
  site: string;
  name: string;
  resources: string;
  /** cluster -> nodes asked of it, and whether a KaVLAN is: what a job found by its name must hold. */
  clusters: Record<string, number>;
  vlan: boolean;
  /** OAR reservation date ("YYYY-MM-DD hh:mm:ss"), or null to start as soon as possible. */
  reservation: string | null;
}

interface OarJobState extends OarJobInputs {
  uid: number;
  /** The job was found open by its name and adopted, not submitted by this stack. */
  reused: boolean;
}

/** The job's submission, as the API takes it: a deploy job that sleeps for its whole walltime. */
export function jobSubmission(inputs: Pick<OarJobInputs, "name" | "resources" | "reservation">) {
  return {
    name: inputs.name,
    resources: inputs.resources,
    command: "sleep 31536000",
    types: ["deploy"],
    ...(inputs.reservation ? { reservation: inputs.reservation } : {}),
  };
}

/**
 * The open job (waiting, launching or running) named `name` of the API's user on `site`, as OAR lists
 * them; undefined if none. Two such jobs are an error: which one is the stack's cannot be told.
 */
export async function findJobByName(api: G5kApi, site: string, name: string): Promise<OarJobView | undefined> {
  const open = `sites/${site}/jobs?user=${encodeURIComponent(api.credentials.username)}&state=waiting,launching,running`;
  const named = (await g5kCall<{ items: OarJobView[] }>(api, "GET", open))!.items.filter((job) => job.name === name);
  if (named.length > 1) {
    throw new Error(
      `${named.length} open OAR jobs named ${name} on ${site} (${named.map((j) => j.uid).join(", ")}): ` +
        `which one is this stack's cannot be told; delete the others (oardel on the ${site} frontend) and run again`,
    );
  }
  return named[0];
}

/** `parasilo: 1, paravance: 2 and a KaVLAN`: nodes per cluster, in cluster order. */
function holding(perCluster: Record<string, number>, vlan: boolean): string {
  const nodes = Object.entries(perCluster).sort(([a], [b]) => a.localeCompare(b));
  return `${nodes.map(([c, n]) => `${c}: ${n}`).join(", ") || "no node"}${vlan ? " and a KaVLAN" : ""}`;
}

/**
 * Why `job`, an open job found by the experiment's name, cannot be reused as its reservation, or
 * undefined: it must be a deploy job holding exactly the nodes asked per cluster, and a KaVLAN if one
 * is asked. A job that does not run yet shows no nodes: it is not taken until it runs.
 */
export function reuseProblem(
  job: OarJobView,
  site: string,
  clusters: Record<string, number>,
  vlan: boolean,
): string | undefined {
  const what = `OAR job ${job.uid} on ${site} is named ${job.name} like this experiment's job`;
  const fix = `delete it (oardel ${job.uid} on the ${site} frontend) or give this experiment another provider.name`;
  if (!job.types?.includes("deploy"))
    return `${what} but is not a deploy job (types: ${job.types?.join(", ") || "none"}); ${fix}`;
  if (job.state !== "running") {
    return `${what} but is ${job.state}: what it holds is known once it runs; run up again then to reuse it, or ${fix}`;
  }
  const held: Record<string, number> = {};
  for (const node of job.assigned_nodes ?? []) held[clusterOf(node)] = (held[clusterOf(node)] ?? 0) + 1;
  const holds = holding(held, Boolean(job.resources_by_type?.vlans?.length));
  const asks = holding(clusters, vlan);
  return holds === asks ? undefined : `${what} but holds ${holds} where it asks ${asks}; ${fix}`;
}

const keys = stackKeys("enos");

const oarJobProvider: pulumi.dynamic.ResourceProvider = {
  configure: keys.configure,
  async create(inputs: OarJobInputs) {
    const api = g5kApiNow(inputs.api, keys.get);
    const open = await findJobByName(api, inputs.site, inputs.name);
    if (open) {
      const problem = reuseProblem(open, inputs.site, inputs.clusters, inputs.vlan);
      if (problem) throw new Error(problem);
      return { id: `${inputs.site}/${open.uid}`, outs: { ...inputs, uid: open.uid, reused: true } };
    }
    const job = await g5kCall<OarJobView>(api, "POST", `sites/${inputs.site}/jobs`, jobSubmission(inputs));
    return { id: `${inputs.site}/${job!.uid}`, outs: { ...inputs, uid: job!.uid, reused: false } };
  },

  async diff(_id: string, olds: OarJobState, news: OarJobInputs) {
    const replaces = (["site", "name", "resources", "reservation"] as const).filter((k) => olds[k] !== news[k]);
    if (replaces.length === 0 && olds.uid !== undefined) {
      const api = g5kApiNow(news.api, keys.get);
      const job = await g5kCall<OarJobView>(api, "GET", `sites/${olds.site}/jobs/${olds.uid}`, undefined, true);
      if (!job || ENDED_STATES.includes(job.state)) replaces.push("site");
    }
    const changes = replaces.length > 0 || JSON.stringify(olds.api) !== JSON.stringify(news.api);
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id: string, olds: OarJobState, news: OarJobInputs) {
    return { outs: { ...news, uid: olds.uid, reused: olds.reused } };
  },

  /**
   * Only a job whose submission was in flight is looked for (see recoverInterruptedUpdate); none found: none was made.
   */
  async read(id: string, props: OarJobState) {
    if (props.uid !== undefined) return { id, props };
    const job = await findJobByName(g5kApiNow(props.api, keys.get), props.site, props.name);
    return job ? { id: `${props.site}/${job.uid}`, props: { ...props, uid: job.uid } } : {};
  },

  async delete(_id: string, props: OarJobState) {
    const api = g5kApiNow(props.api, keys.get);
    const uid = props.uid ?? (await findJobByName(api, props.site, props.name))?.uid;
    if (uid === undefined) return;
    const path = `sites/${props.site}/jobs/${uid}`;
    const job = await g5kCall<OarJobView>(api, "GET", path, undefined, true);
    if (job && !ENDED_STATES.includes(job.state)) await g5kCall(api, "DELETE", path, undefined, true);
  },
};

export class OarJob extends pulumi.dynamic.Resource {
  public readonly uid!: pulumi.Output<number>;
  public readonly reused!: pulumi.Output<boolean>;

  constructor(
    name: string,
    args: { [K in keyof OarJobInputs]: pulumi.Input<OarJobInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(oarJobProvider, name, { ...args, uid: undefined, reused: undefined }, opts, "enos", "OarJob");
  }
}
