import type * as pulumi from "@pulumi/pulumi";
import type { Host, Reservation, TestbedNetwork } from "../config/types";

/** The module of every testbed component's type token (`enos:testbed:Local`…): `enos up` targets them all. */
export const TESTBED_MODULE = "enos:testbed";

/**
 * What every testbed component gives the phases: the hosts (once acquired and probed), the
 * network Kolla's VIPs and external pool live on, and the host aliases, known before any host
 * exists so the phases can plan on them. A capability only some testbeds have is an optional
 * member: a phase that needs it checks for it, never for a testbed's class.
 */
export interface Testbed extends pulumi.ComponentResource {
  readonly hosts: pulumi.Output<Host[]>;
  readonly network: pulumi.Output<TestbedNetwork>;
  /** Host aliases, known before the hosts exist. */
  readonly aliases: string[];
  /**
   * Each host's network namespace on this machine, by alias: only hosts that are namespaces here
   * (the local testbed) have them, and only they can run the dev cloud.
   */
  readonly namespaces?: Record<string, string>;
  /** The jobs or leases held, on testbeds that reserve (Grid'5000, Chameleon), said reused when found by name. */
  readonly reservations?: pulumi.Output<Reservation[]>;
}
