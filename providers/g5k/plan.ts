import { intToIp, networkOf } from "../../config/net";
import type { HostSlot } from "../../config/slots";
import type { RoleDemand, TestbedNetwork } from "../../config/types";
import { testbedNetwork } from "../../config/vips";

/** The decisions of the Grid'5000 testbed, as pure functions: jobs, role assignment, names, network. */

/** One OAR job: what is submitted to one site. */
export interface SiteJob {
  site: string;
  /** OAR resources expression: `{cluster='C'}/nodes=N` per cluster joined with `+`, the site's vlan, the walltime. */
  resources: string;
  /** cluster -> nodes asked on it. */
  clusters: Record<string, number>;
  /** Whether this job reserves the site's KaVLAN. */
  vlan: boolean;
}

/** Nodes asked per cluster: the sum of its role counts (every group included). */
export function nodesPerCluster(demands: RoleDemand[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of demands) counts[d.bucket] = (counts[d.bucket] ?? 0) + d.count;
  return counts;
}

/**
 * One OAR deploy job per site holding its clusters, in site order. A cluster unknown to the API is an
 * error naming it and the clusters that exist; so is a reservation without any KaVLAN, where
 * Kolla's addresses come from.
 */
export function planSiteJobs(
  demands: RoleDemand[],
  clusterSites: Record<string, string>,
  vlans: Record<string, string>,
  walltime: string,
): SiteJob[] {
  const counts = nodesPerCluster(demands);
  const unknown = Object.keys(counts).filter((c) => !(c in clusterSites));
  if (unknown.length) {
    throw new Error(
      `resources: no Grid'5000 cluster named ${unknown.join(", ")}; known clusters: ${Object.keys(clusterSites).sort().join(", ")}`,
    );
  }
  const bySite = new Map<string, Record<string, number>>();
  for (const [cluster, n] of Object.entries(counts)) {
    const site = clusterSites[cluster];
    bySite.set(site, { ...bySite.get(site), [cluster]: n });
  }
  const jobs = [...bySite.keys()].sort().map((site) => {
    const clusters = bySite.get(site)!;
    const parts = Object.entries(clusters).map(([c, n]) => `{cluster='${c}'}/nodes=${n}`);
    if (vlans[site]) parts.push(vlans[site]);
    return { site, clusters, vlan: Boolean(vlans[site]), resources: `${parts.join("+")},walltime=${walltime}` };
  });
  if (!jobs.some((j) => j.vlan)) {
    throw new Error(
      `provider.vlans reserves no KaVLAN on the sites of your clusters (${jobs.map((j) => j.site).join(", ")}); ` +
        `Kolla's VIPs and external pool come from a vlan: add e.g. vlans: {${jobs[0].site}: "{type='kavlan'}/vlan=1"}`,
    );
  }
  return jobs;
}

/** `paravance-3.rennes.grid5000.fr` (or its kavlan name) -> `paravance`. */
export function clusterOf(node: string): string {
  return node
    .split(".")[0]
    .replace(/(-kavlan-\d+)?$/, "")
    .replace(/-\d+$/, "");
}

/** The node's name inside KaVLAN `vlan`: `paravance-3-kavlan-4.rennes.grid5000.fr`. */
export function kavlanName(node: string, vlan: string): string {
  const [short, ...domain] = node.split(".");
  return [`${short}-kavlan-${vlan}`, ...domain].join(".");
}

/**
 * Slots onto the nodes obtained, cluster by cluster, in order. `strict`: each slot gets a node of its
 * own, and a cluster that gave fewer nodes than asked is an error. `debug`: slots take the nodes
 * obtained in turn, so roles share nodes when some are missing.
 */
export function assignNodes(
  slots: HostSlot[],
  obtained: string[],
  distribution: "strict" | "debug",
): (HostSlot & { node: string })[] {
  const asked: Record<string, number> = {};
  for (const s of slots) asked[s.bucket] = (asked[s.bucket] ?? 0) + 1;
  const problem = distributionProblem(asked, obtained, distribution);
  if (problem) throw new Error(problem);
  const byCluster = nodesByCluster(obtained);
  const next = new Map<string, number>();
  return slots.map((slot) => {
    const nodes = byCluster.get(slot.bucket)!;
    const at = next.get(slot.bucket) ?? 0;
    next.set(slot.bucket, at + 1);
    return { ...slot, node: nodes[at % nodes.length] };
  });
}

function nodesByCluster(nodes: string[]): Map<string, string[]> {
  const byCluster = new Map<string, string[]>();
  for (const node of [...nodes].sort(byNodeNumber))
    byCluster.set(clusterOf(node), [...(byCluster.get(clusterOf(node)) ?? []), node]);
  return byCluster;
}

/**
 * Why the nodes obtained cannot serve the nodes asked per cluster, or undefined: `strict` needs every
 * node asked, `debug` at least one per cluster.
 */
export function distributionProblem(
  asked: Record<string, number>,
  obtained: string[],
  distribution: "strict" | "debug",
): string | undefined {
  const byCluster = nodesByCluster(obtained);
  const short = Object.entries(asked).filter(([c, n]) => (byCluster.get(c)?.length ?? 0) < n);
  if (!short.some(([c]) => !byCluster.get(c)?.length) && (distribution === "debug" || short.length === 0))
    return undefined;
  const detail = short.map(([c, n]) => `${c}: ${byCluster.get(c)?.length ?? 0} of ${n}`).join(", ");
  return (
    `Grid'5000 gave fewer nodes than asked (${detail}); ` +
    (distribution === "strict"
      ? "set provider.role_distribution: debug to let roles share the nodes obtained"
      : "role_distribution debug needs at least one node per cluster")
  );
}

function byNodeNumber(a: string, b: string): number {
  const num = (n: string) => Number(/-(\d+)(\.|-kavlan)/.exec(n)?.[1] ?? 0);
  return clusterOf(a).localeCompare(clusterOf(b)) || num(a) - num(b) || a.localeCompare(b);
}

/**
 * Kolla's addresses inside a KaVLAN, as Enos took them: the first addresses of a vlan belong to the
 * nodes, so a routed vlan (id ≥ 4) is cut in /23s of which the 14th to 31st are free, a local vlan
 * (id 1-3) in /24s of which the 5th to 7th are. Enos had no extra_ips there: its VIPs are the last
 * five free addresses (config/vips.ts), the rest is the external pool.
 */
export function vlanNetwork(
  vlan: string,
  cidr: string,
  gateway: string,
  dns: string,
  eths: [string, string],
): TestbedNetwork {
  const [, bits] = cidr.split("/");
  const local = Number(vlan) <= 3;
  const piece = local ? 24 : 23;
  const [from, to] = local ? [4, 7] : [13, 31];
  if (Number(bits) > piece || 2 ** (piece - Number(bits)) < to) {
    throw new Error(`kavlan ${vlan}: network ${cidr} is too small to hold free addresses after the nodes'`);
  }
  const size = 2 ** (32 - piece);
  const { network } = networkOf(cidr);
  const first = network + from * size;
  const last = network + to * size - 1;
  return testbedNetwork([], { start: intToIp(first), end: intToIp(last), cidr, gateway, dns }, eths);
}

/** A node's network adapter as the reference API describes it. */
export interface Adapter {
  device: string;
  mounted?: boolean;
  mountable?: boolean;
  enabled?: boolean;
  management?: boolean;
  ip?: string;
}

/**
 * The API interface is the one the deployment mounts; the external one the next mountable one, or
 * the same with `single_interface` (or on nodes with one NIC).
 */
export function interfacesOf(adapters: Adapter[], singleInterface: boolean): { api: string; external: string } {
  const usable = adapters.filter((a) => a.enabled !== false && a.mountable && !a.management);
  const api = usable.find((a) => a.mounted) ?? usable[0];
  if (!api) throw new Error(`no mountable network adapter among ${adapters.map((a) => a.device).join(", ") || "none"}`);
  const second = singleInterface ? undefined : usable.find((a) => a !== api);
  const external = second ?? api;
  return { api: api.device, external: external.device };
}
