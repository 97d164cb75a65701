import * as pulumi from "@pulumi/pulumi";
import { stackKeys } from "../openstack/api";
import { ENDED_STATES, type G5kAccount, g5kCall, type OarJobView, pollUntil } from "./api";
import { g5kApiNow } from "./credentials";
import { type Adapter, distributionProblem } from "./plan";

/**
 * The nodes of one OAR job, deployed: waits for the job to run, deploys the Kadeploy environment on
 * its nodes (into its KaVLAN when it has one) with the stack's key, and reads what the testbed
 * assigned: nodes deployed, vlan and its network, the clusters' network adapters. Deleting it
 * releases nothing: deleting the job (its dependency) does.
 */
export interface JobNodesInputs {
  /** Which API; the credentials are read at each call (see g5kApiNow). */
  api: G5kAccount;
  site: string;
  uid: number;
  envName: string;
  publicKey: string;
  /** cluster -> nodes asked of it. */
  clusters: Record<string, number>;
  distribution: "strict" | "debug";
  pollSeconds: number;
  waitSeconds: number;
  /** The job's reservation date: waiting for it to run starts counting from then. */
  reservation: string | null;
}

export interface JobNodesOutputs extends JobNodesInputs {
  /** Nodes the deployment reported OK, by their production names. */
  nodes: string[];
  /** The Kadeploy deployment that installed them (a new one means new host keys). */
  deployment: string;
  vlan: string | null;
  /** Network adapters of each node deployed, by its short name (`paravance-3`), from the reference API. */
  adapters: Record<string, Adapter[]>;
  /** The vlan's network from the site's description, when the job has a vlan. */
  vlanNetwork: { network: string; gateway: string } | null;
  dns: string;
}

interface DeploymentView {
  uid: string;
  status: string;
  result?: Record<string, { state: string }>;
}

/** Seconds from now to an OAR reservation date ("YYYY-MM-DD hh:mm:ss", read as this machine's local time). */
function secondsUntil(date: string | null): number {
  return date ? Math.max(0, (Date.parse(date.replace(" ", "T")) - Date.now()) / 1000) : 0;
}

const keys = stackKeys("enos");

async function deployJob(inputs: JobNodesInputs): Promise<JobNodesOutputs> {
  const { site, uid } = inputs;
  const api = g5kApiNow(inputs.api, keys.get);
  const where = `OAR job ${uid} on ${site}`;
  const job = await pollUntil(
    async () => {
      const view = await g5kCall<OarJobView>(api, "GET", `sites/${site}/jobs/${uid}`, undefined, true);
      if (!view) throw new Error(`${where} no longer exists; run up again to submit a new one`);
      if (ENDED_STATES.includes(view.state)) {
        throw new Error(
          `${where} is ${view.state} (walltime reached, killed, or refused by OAR); ` +
            "run up again to submit a new job, or destroy to release the stack",
        );
      }
      return view.state === "running" ? view : undefined;
    },
    inputs.pollSeconds,
    inputs.waitSeconds + secondsUntil(inputs.reservation),
    `${where} waiting to run`,
  );
  const assigned = job.assigned_nodes ?? [];
  const vlan = job.resources_by_type?.vlans?.[0] ?? null;

  const started = await g5kCall<DeploymentView>(api, "POST", `sites/${site}/deployments`, {
    nodes: assigned,
    environment: inputs.envName,
    key: inputs.publicKey,
    ...(vlan ? { vlan } : {}),
  });
  const done = await pollUntil(
    async () => {
      const view = (await g5kCall<DeploymentView>(api, "GET", `sites/${site}/deployments/${started!.uid}`))!;
      return view.status === "processing" ? undefined : view;
    },
    inputs.pollSeconds,
    inputs.waitSeconds,
    `deployment ${started!.uid} of ${inputs.envName} on ${site}`,
  );
  if (done.status !== "terminated")
    throw new Error(`deployment ${done.uid} of ${inputs.envName} on ${site} ended ${done.status}`);
  const nodes = assigned.filter((n) => done.result?.[n]?.state === "OK");
  // Checked here, where the nodes are obtained, so that a shortfall fails this resource with its reason.
  const problem = distributionProblem(inputs.clusters, nodes, inputs.distribution);
  if (problem) throw new Error(`deployment ${done.uid} on ${site}: ${problem}`);

  const siteView = (await g5kCall<{ kavlans?: Record<string, { network: string; gateway: string }> }>(
    api,
    "GET",
    `sites/${site}`,
  ))!;
  const dnsServer = await g5kCall<{ network_adapters?: Record<string, { ip?: string }> }>(
    api,
    "GET",
    `sites/${site}/servers/dns`,
    undefined,
    true,
  );
  const adapters: Record<string, Adapter[]> = {};
  const shortNames = new Set(nodes.map((n) => n.split(".")[0]));
  for (const cluster of Object.keys(inputs.clusters)) {
    const list = (await g5kCall<{ items: { uid: string; network_adapters: Adapter[] }[] }>(
      api,
      "GET",
      `sites/${site}/clusters/${cluster}/nodes`,
    ))!;
    for (const item of list.items) if (shortNames.has(item.uid)) adapters[item.uid] = item.network_adapters;
  }
  return {
    ...inputs,
    nodes,
    deployment: done.uid,
    vlan,
    vlanNetwork: vlan ? (siteView.kavlans?.[vlan] ?? null) : null,
    dns: dnsServer?.network_adapters?.default?.ip ?? "",
    adapters,
  };
}

const jobNodesProvider: pulumi.dynamic.ResourceProvider = {
  configure: keys.configure,
  async create(inputs: JobNodesInputs) {
    return { id: `${inputs.site}/${inputs.uid}`, outs: await deployJob(inputs) };
  },
  async diff(_id: string, olds: JobNodesOutputs, news: JobNodesInputs) {
    const replaces = (["site", "uid", "envName", "publicKey"] as const).filter((k) => olds[k] !== news[k]);
    const changes =
      replaces.length > 0 ||
      JSON.stringify([
        olds.api,
        olds.clusters,
        olds.distribution,
        olds.pollSeconds,
        olds.waitSeconds,
        olds.reservation,
      ]) !==
        JSON.stringify([
          news.api,
          news.clusters,
          news.distribution,
          news.pollSeconds,
          news.waitSeconds,
          news.reservation,
        ]);
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async update(_id: string, olds: JobNodesOutputs, news: JobNodesInputs) {
    return { outs: { ...olds, ...news } };
  },
};

export class JobNodes extends pulumi.dynamic.Resource {
  public readonly nodes!: pulumi.Output<string[]>;
  public readonly deployment!: pulumi.Output<string>;
  public readonly vlan!: pulumi.Output<string | null>;
  public readonly vlanNetwork!: pulumi.Output<{ network: string; gateway: string } | null>;
  public readonly dns!: pulumi.Output<string>;
  public readonly adapters!: pulumi.Output<Record<string, Adapter[]>>;

  constructor(
    name: string,
    args: { [K in keyof JobNodesInputs]: pulumi.Input<JobNodesInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      jobNodesProvider,
      name,
      {
        ...args,
        nodes: undefined,
        deployment: undefined,
        vlan: undefined,
        vlanNetwork: undefined,
        dns: undefined,
        adapters: undefined,
      },
      opts,
      "enos",
      "G5kJobNodes",
    );
  }
}
