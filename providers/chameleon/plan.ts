import type { RoleDemand } from "../../config/types";

/** Blazar's resource_properties for a Chameleon node type (a JSON-encoded filter, as the docs give it). */
export function nodeTypeFilter(nodeType: string): string {
  return JSON.stringify(["==", "$node_type", nodeType]);
}

/** One physical:host reservation per node type, for the sum of its role counts. */
export function leaseReservations(demands: RoleDemand[]) {
  const counts = new Map<string, number>();
  for (const d of demands) counts.set(d.bucket, (counts.get(d.bucket) ?? 0) + d.count);
  return [...counts].map(([nodeType, n]) => ({
    resource_type: "physical:host",
    min: n,
    max: n,
    hypervisor_properties: "",
    resource_properties: nodeTypeFilter(nodeType),
  }));
}

/** Blazar's date format ("YYYY-MM-DD HH:MM", UTC), `walltime` (hh:mm:ss) after `from`. */
export function leaseEnd(from: Date, walltime: string): string {
  const [h, m, s] = walltime.split(":").map(Number);
  // Blazar counts in minutes: a started minute is kept.
  const end = new Date(from.getTime() + Math.ceil((h * 3600 + m * 60 + s) / 60) * 60_000);
  return end.toISOString().slice(0, 16).replace("T", " ");
}
