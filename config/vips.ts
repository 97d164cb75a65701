import { intToIp, ipToInt } from "./net";
import type { ExternalPool, TestbedNetwork } from "./types";

/**
 * Kolla's five VIPs, taken as Enos 3.0 took them (enos.py `up`, utils/extra.py `pop_ip`): in this
 * order, each the last address left in extra_ips, and once extra_ips is empty the end of the
 * start..end range, whose end moves below it (the external pool shrinks). An Enos user's file thus
 * gives the same addresses here as there.
 */
export const VIP_NAMES = ["internal", "registry", "influxdb", "grafana", "external"] as const;
export type VipName = (typeof VIP_NAMES)[number];

/** Enos' variable name of each VIP, which its users know (and `enos check` prints). */
export const ENOS_VIP_KEYS: Record<VipName, string> = {
  internal: "vip",
  registry: "registry_vip",
  influxdb: "influx_vip",
  grafana: "grafana_vip",
  external: "external_vip",
};

export interface Vip {
  address: string;
  /** Where it was taken from: `extra_ips[i]`, or `end of start..end`. */
  from: string;
}
export type Vips = Record<VipName, Vip>;

/** Where a testbed's VIPs come from: its isolated addresses, then its external range. */
export interface AddressPool {
  extraIps: string[];
  start: string;
  end: string;
}

/**
 * Addresses the pool can give: every extra IP, and all of the range but its start, since pop_ip
 * always leaves the range at least one address (it fails when the range is a single address).
 */
export function availableAddresses(pool: AddressPool): number {
  return pool.extraIps.length + Math.max(0, ipToInt(pool.end) - ipToInt(pool.start));
}

/** Why the pool cannot give the five VIPs, or undefined when it can. */
export function vipShortage(pool: AddressPool): string | undefined {
  const available = availableAddresses(pool);
  if (available >= VIP_NAMES.length) return undefined;
  const range = Math.max(0, ipToInt(pool.end) - ipToInt(pool.start) + 1);
  return (
    `needs ${VIP_NAMES.length} addresses for Kolla's VIPs (${VIP_NAMES.map((n) => ENOS_VIP_KEYS[n]).join(", ")}) and has ${available}: ` +
    `${pool.extraIps.length} in extra_ips, and ${Math.max(0, range - 1)} of the ${range} in ${pool.start}..${pool.end} ` +
    `(one stays for OpenStack's external network); add addresses to extra_ips or widen start..end`
  );
}

/** The five VIPs and the end of the range once they are taken; throws when the pool is too small. */
export function allocateVips(pool: AddressPool): { vips: Vips; end: string } {
  const shortage = vipShortage(pool);
  if (shortage) throw new Error(`the testbed's network ${shortage}`);
  const extra = [...pool.extraIps];
  let end = ipToInt(pool.end);
  const take = (): Vip => {
    if (extra.length) return { address: extra.pop()!, from: `extra_ips[${extra.length}]` };
    const address = intToIp(end--);
    return { address, from: "end of start..end" };
  };
  const vips = Object.fromEntries(VIP_NAMES.map((name) => [name, take()])) as Vips;
  return { vips, end: intToIp(end) };
}

/** A testbed's network, its VIPs taken from `extraIps` and then from the end of the external range. */
export function testbedNetwork(extraIps: string[], external: ExternalPool, eths: [string, string]): TestbedNetwork {
  const { vips, end } = allocateVips({ extraIps, start: external.start, end: external.end });
  return { extraIps, vips, external: { ...external, end }, eths };
}
