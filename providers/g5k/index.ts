import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ProviderConfig } from "../../config/schema";
import { planSlots, slotHost } from "../../config/slots";
import type { Host, Reservation, RoleDemand, TestbedNetwork } from "../../config/types";
import { SshKeyPair } from "../shared/keypair";
import { probedFacts, StaticHostsProbe } from "../shared/probe";
import { NO_NETWORK, Refusal, refusedOnError } from "../shared/refusal";
import type { Testbed } from "../testbed";
import { type G5kApi, g5kCall } from "./api";
import { readG5kCredentials } from "./credentials";
import { OarJob } from "./job";
import { JobNodes } from "./nodes";
import { type Adapter, assignNodes, interfacesOf, kavlanName, planSiteJobs, vlanNetwork } from "./plan";

export interface G5kTestbedArgs {
  stack: string;
  stateDir: string;
  provider: Extract<ProviderConfig, { type: "g5k" }>;
  demands: RoleDemand[];
  /** Host keys of the deployed nodes are learnt here on first use (see StaticHostsProbe). */
  knownHostsFile: string;
}

/** cluster -> site, from the API's list of sites and each site's clusters. */
export async function clusterSites(api: G5kApi): Promise<Record<string, string>> {
  const sites = (await g5kCall<{ items: { uid: string }[] }>(api, "GET", "sites"))!.items;
  const lists = await Promise.all(
    sites.map((s) => g5kCall<{ items: { uid: string }[] }>(api, "GET", `sites/${s.uid}/clusters`)),
  );
  return Object.fromEntries(sites.flatMap((s, i) => lists[i]!.items.map((c) => [c.uid, s.uid])));
}

/**
 * Grid'5000 nodes: one OAR job of type deploy per site, each deployed with `env_name` and the
 * stack's key, then probed over SSH. Hosts are the role slots planned from `resources` (known before
 * any job runs, so the phases can plan on them), each on a node of its cluster, reached by the
 * node's name on the testbed (its KaVLAN name inside a vlan), as from a Grid'5000 frontend.
 */
export class G5kTestbed extends pulumi.ComponentResource implements Testbed {
  public static readonly __pulumiType = "enos:testbed:G5k";
  public readonly hosts: pulumi.Output<Host[]>;
  public readonly network: pulumi.Output<TestbedNetwork>;
  public readonly aliases: string[];
  /** The OAR jobs, each said reused when it was found open by its name. */
  public readonly reservations: pulumi.Output<Reservation[]>;

  constructor(name: string, args: G5kTestbedArgs, opts?: pulumi.ComponentResourceOptions) {
    super(G5kTestbed.__pulumiType, name, {}, opts);
    const p = args.provider;
    const slots = planSlots(args.demands);
    // Jobs found open by this name are reused: a name of the stack's own keeps two stacks from sharing one.
    const jobName = p.name ?? `enos-${args.stack}`;
    this.aliases = slots.map((s) => s.alias);
    const keyfile = path.join(args.stateDir, args.stack, "id_ed25519");
    const keyPair = new SshKeyPair(`${name}-ssh-key`, { file: keyfile }, { parent: this });
    // What the API says decides the jobs; what cannot be had (credentials, unknown clusters, no
    // vlan) stops preview and up at a Refusal, before anything is submitted.
    const planned = pulumi.output(
      Promise.resolve()
        .then(async () => {
          const api: G5kApi = { url: p.api_url, credentials: readG5kCredentials(p.credentials_file) };
          return { jobs: planSiteJobs(args.demands, await clusterSites(api), p.vlans, p.walltime) };
        })
        .catch((error: Error) => ({ refusal: error.message })),
    );
    const deployed = planned.apply((plan) => {
      if (!("jobs" in plan))
        return new Refusal(`${name}-g5k`, plan.refusal, { parent: this }).id.apply((): SiteNodes[] => []);
      // Only which API: the resources read the credentials at each call.
      const account = { url: p.api_url, credentialsFile: p.credentials_file };
      return pulumi.all(
        plan.jobs.map((job) => {
          const oar = new OarJob(
            `${name}-job-${job.site}`,
            {
              api: account,
              site: job.site,
              name: jobName,
              resources: job.resources,
              clusters: job.clusters,
              vlan: job.vlan,
              reservation: p.reservation,
            },
            { parent: this },
          );
          const reservation = pulumi.all([oar.uid, oar.reused]).apply(([uid, reused]): Reservation => {
            const held = { reservation: `OAR job ${uid} on ${job.site}`, name: jobName, reused: Boolean(reused) };
            if (reused) pulumi.log.info(`${held.reservation} (name ${jobName}) reused: found open by its name`, this);
            return held;
          });
          const nodes = new JobNodes(
            `${name}-nodes-${job.site}`,
            {
              api: account,
              site: job.site,
              uid: oar.uid,
              envName: p.env_name,
              publicKey: keyPair.publicKey,
              clusters: job.clusters,
              distribution: p.role_distribution,
              pollSeconds: p.poll_interval,
              waitSeconds: p.wait_timeout,
              reservation: p.reservation,
            },
            { parent: this },
          );
          return pulumi
            .all([nodes.nodes, nodes.deployment, nodes.vlan, nodes.vlanNetwork, nodes.dns, nodes.adapters, reservation])
            .apply(
              ([n, deployment, vlan, vlanNet, dns, adapters, held]): SiteNodes => ({
                site: job.site,
                reservation: held,
                nodes: n,
                deployment,
                vlan,
                vlanNet,
                dns,
                adapters,
              }),
            );
        }),
      );
    });

    // Too few nodes deployed (strict distribution), or a node without a mountable adapter: known once
    // the jobs' nodes are deployed, a refusal that names it (no throw inside an apply).
    const assigned = deployed.apply((sites) => {
      const siteOf = new Map(sites.flatMap((site) => site.nodes.map((node) => [node, site] as const)));
      const assign = () =>
        assignNodes(
          slots,
          sites.flatMap((site) => site.nodes),
          p.role_distribution,
        ).map((slot) => {
          const site = siteOf.get(slot.node)!;
          const nics = interfacesOf(site.adapters[slot.node.split(".")[0]] ?? [], p.single_interface);
          const address = site.vlan ? kavlanName(slot.node, site.vlan) : slot.node;
          return { ...slot, site, address, eths: [nics.api, nics.external] as [string, string] };
        });
      return refusedOnError(`${name}-nodes-assigned`, assign, [], { parent: this });
    });
    // What the deployed system really has (addresses inside a KaVLAN, NIC names, qdiscs), read over
    // SSH once per node: roles may share a node in debug distribution.
    const probe = new StaticHostsProbe(
      `${name}-probe`,
      {
        hosts: assigned.apply((slots) => [
          ...new Map(
            slots.map((s) => [
              s.address,
              {
                alias: s.node.split(".")[0],
                address: s.address,
                user: p.user,
                keyfile,
                eths: s.eths,
                generation: `${s.site.site}/${s.site.deployment}`,
              },
            ]),
          ).values(),
        ]),
        knownHostsFile: args.knownHostsFile,
        sshWaitTimeout: p.ssh_wait_timeout,
      },
      { parent: this, dependsOn: [keyPair] },
    );
    this.hosts = pulumi.all([assigned, probe.probed]).apply(([slots, probed]) => {
      const probedAt = new Map(probed.map((h) => [h.alias, h]));
      return slots.map((slot): Host => {
        const facts = probedAt.get(slot.node.split(".")[0])!;
        return {
          ...slotHost(slot),
          address: slot.address,
          user: p.user,
          keyfile,
          extra: { g5k_node: slot.node, g5k_site: slot.site.site },
          ...probedFacts(facts),
        };
      });
    });
    this.network = pulumi.all([deployed, this.hosts]).apply(([sites, hosts]) =>
      refusedOnError(
        `${name}-network`,
        () => {
          const withVlan = sites.find((site) => site.vlan && site.vlanNet);
          if (!withVlan?.vlan || !withVlan.vlanNet)
            throw new Error("no job obtained a KaVLAN: Kolla's VIPs and external pool have no network");
          const eths: [string, string] = [hosts[0].interfaces.api, hosts[0].interfaces.external];
          return vlanNetwork(withVlan.vlan, withVlan.vlanNet.network, withVlan.vlanNet.gateway, withVlan.dns, eths);
        },
        NO_NETWORK,
        { parent: this },
      ),
    );
    this.reservations = deployed.apply((sites) => sites.map((s) => s.reservation));
    this.registerOutputs({ hosts: this.hosts, network: this.network, reservations: this.reservations });
  }
}

/** What one site's job gave, as JobNodes read it. */
interface SiteNodes {
  site: string;
  reservation: Reservation;
  nodes: string[];
  deployment: string;
  vlan: string | null;
  vlanNet: { network: string; gateway: string } | null;
  dns: string;
  adapters: Record<string, Adapter[]>;
}
