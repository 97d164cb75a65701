import type { KernelFacts } from "./kernel";
import type { Vips } from "./vips";

/** What every testbed gives the phases (the testbed contract: ARCHITECTURE.md). */
export interface Host {
  alias: string;
  address: string;
  /** Unset: whatever the user's ssh configuration says. */
  user?: string;
  port?: number;
  keyfile?: string;
  roles: string[];
  groups: string[];
  extra: Record<string, unknown>;
  /** Interface names on this host for Kolla's API and external networks. */
  interfaces: { api: string; external: string };
  /** Every IPv4 address of the host (a docker bridge's excluded): traffic to any of them is shaped. */
  ips: string[];
  /** The host's active interfaces (loopback and docker's excluded): where its tc rules live. */
  devices: string[];
  /** Which qdiscs its kernel has, probed when the testbed handed the host out. */
  kernel: KernelFacts;
  /** The host's SSH public key when the testbed knows it, so that ssh can check it. */
  hostKey?: string;
  /** An SSH jump host (`user@address`) the host is reached through (ssh's ProxyJump). */
  jump?: string;
  /** The jump host's SSH public key, learnt when the testbed first reached the host: checked like hostKey. */
  jumpHostKey?: string;
}

/** A reservation a testbed holds (a Grid'5000 job, a Blazar lease): the stack's `reservations` output. */
export interface Reservation {
  /** `OAR job 1234 on rennes`, `Blazar lease <id>`. */
  reservation: string;
  name: string;
  /** Found open by its name and adopted (as Enos did), rather than made by this stack. */
  reused: boolean;
}

export interface TestbedNetwork {
  /** Free addresses on the API network that the VIPs are taken from first (Enos' extra_ips). */
  extraIps: string[];
  /** Kolla's five VIPs, taken from extraIps, then from the end of the external range (config/vips.ts). */
  vips: Vips;
  /** The pool OpenStack's public network allocates from, without the VIPs taken from its end. */
  external: ExternalPool;
  eths: [string, string];
}

export interface ExternalPool {
  start: string;
  end: string;
  cidr: string;
  gateway: string;
  dns: string;
}

/** How many hosts of a role the testbed must provide, from which bucket (cluster, size, flavor) and group. */
export interface RoleDemand {
  group?: string;
  bucket: string;
  role: string;
  count: number;
}
