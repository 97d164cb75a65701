import type { Host, RoleDemand } from "./types";

/** One host a counted testbed must hand out, named before it exists so that phases can plan on it. */
export interface HostSlot {
  alias: string;
  /** Cluster, flavor, size or node type. */
  bucket: string;
  role: string;
  group?: string;
}

/** What a host made for this slot says of it: its name, role and group. */
export function slotHost(slot: HostSlot): Pick<Host, "alias" | "roles" | "groups"> {
  return { alias: slot.alias, roles: [slot.role], groups: slot.group ? [slot.group] : [] };
}

/** `compute-1`, `compute-2`… (or `grp2-compute-1`), numbered per group and role across buckets. */
export function planSlots(demands: RoleDemand[]): HostSlot[] {
  const seen = new Map<string, number>();
  return demands.flatMap((d) =>
    Array.from({ length: d.count }, () => {
      const prefix = `${d.group ? `${d.group}-` : ""}${d.role}`;
      const n = (seen.get(prefix) ?? 0) + 1;
      seen.set(prefix, n);
      return { alias: `${prefix}-${n}`, bucket: d.bucket, role: d.role, group: d.group };
    }),
  );
}
