import * as pulumi from "@pulumi/pulumi";
import { ENDED_STATES, type G5kApi, g5kCall, type OarJobView } from "./api";

/**
 * One OAR job on one site. Create only submits it and returns its uid at once, so the job is in the
 * stack's state before anything waits on it: whatever happens next (a failed or interrupted up),
 * destroy deletes it. A job that has ended (walltime reached, killed) is replaced on the next up. A job
 * whose submission was in flight when the engine died has no uid in the state: it is found by its name.
 * (A dynamic provider's code: ARCHITECTURE.md, "The serialization rule".)
 */
export interface OarJobInputs {
  api: G5kApi;
  site: string;
  name: string;
  resources: string;
  /** OAR reservation date ("YYYY-MM-DD hh:mm:ss"), or null to start as soon as possible. */
  reservation: string | null;
}

interface OarJobState extends OarJobInputs {
  uid: number;
}

/** The job's submission, as the API takes it: a deploy job that sleeps for its whole walltime. */
export function jobSubmission(inputs: OarJobInputs) {
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

const oarJobProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: OarJobInputs) {
    const job = await g5kCall<OarJobView>(inputs.api, "POST", `sites/${inputs.site}/jobs`, jobSubmission(inputs));
    return { id: `${inputs.site}/${job!.uid}`, outs: { ...inputs, uid: job!.uid } };
  },

  async diff(_id: string, olds: OarJobState, news: OarJobInputs) {
    const replaces = (["site", "name", "resources", "reservation"] as const).filter((k) => olds[k] !== news[k]);
    if (replaces.length === 0 && olds.uid !== undefined) {
      // With the new credentials: the old ones may be why they changed.
      const job = await g5kCall<OarJobView>(
        news.api ?? olds.api,
        "GET",
        `sites/${olds.site}/jobs/${olds.uid}`,
        undefined,
        true,
      );
      if (!job || ENDED_STATES.includes(job.state)) replaces.push("site");
    }
    const changes =
      replaces.length > 0 ||
      olds.api.url !== news.api.url ||
      JSON.stringify(olds.api.credentials) !== JSON.stringify(news.api.credentials);
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id: string, olds: OarJobState, news: OarJobInputs) {
    return { outs: { ...news, uid: olds.uid } };
  },

  /**
   * Only a job whose submission was in flight is looked for (see recoverInterruptedUpdate); none found: none was made.
   */
  async read(id: string, props: OarJobState) {
    if (props.uid !== undefined) return { id, props };
    const job = await findJobByName(props.api, props.site, props.name);
    return job ? { id: `${props.site}/${job.uid}`, props: { ...props, uid: job.uid } } : {};
  },

  async delete(_id: string, props: OarJobState) {
    const uid = props.uid ?? (await findJobByName(props.api, props.site, props.name))?.uid;
    if (uid === undefined) return;
    const path = `sites/${props.site}/jobs/${uid}`;
    const job = await g5kCall<OarJobView>(props.api, "GET", path, undefined, true);
    if (job && !ENDED_STATES.includes(job.state)) await g5kCall(props.api, "DELETE", path, undefined, true);
  },
};

export class OarJob extends pulumi.dynamic.Resource {
  public readonly uid!: pulumi.Output<number>;

  constructor(
    name: string,
    args: { [K in keyof OarJobInputs]: pulumi.Input<OarJobInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      oarJobProvider,
      name,
      { ...args, uid: undefined },
      { ...opts, additionalSecretOutputs: ["api"] },
      "enos",
      "OarJob",
    );
  }
}
