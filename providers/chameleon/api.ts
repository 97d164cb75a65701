import { cloudSession, type OpenStackSession, openstackCall, serviceEndpoint } from "../openstack/api";
import type { CloudIdentity } from "../openstack/auth";

/**
 * Blazar (reservation API v1) calls for Chameleon's bare-metal leases. Runs inside dynamic providers:
 * ARCHITECTURE.md, "The serialization rule".
 */
export interface BlazarSession {
  session: OpenStackSession;
  /** The reservation service's public endpoint, ending in /v1. */
  endpoint: string;
}

/**
 * A token and the reservation endpoint from the catalog, as python-blazarclient finds them, with the
 * credentials of `identity` that can be read now (see cloudSession); `config`: the stack's openstack: keys.
 */
export async function blazarSession(
  identity: CloudIdentity,
  config: (key: string) => string | undefined,
): Promise<BlazarSession> {
  const session = await cloudSession(identity, config);
  const base = serviceEndpoint(session, "reservation", "Blazar");
  return { session, endpoint: /\/v1$/.test(base) ? base : `${base}/v1` };
}

/** Calls Blazar and returns its JSON; `undefined` on 404 when `missingOk`. */
export async function blazarCall<T>(
  blazar: BlazarSession,
  method: string,
  path: string,
  body?: unknown,
  missingOk = false,
): Promise<T | undefined> {
  return openstackCall<T>(blazar.session, "Blazar", method, `${blazar.endpoint}/${path}`, body, missingOk);
}

export interface LeaseView {
  id: string;
  name: string;
  status: string;
  start_date: string;
  end_date: string;
  reservations: {
    id: string;
    status?: string;
    resource_type: string;
    resource_properties?: string;
    min?: number;
    max?: number;
  }[];
}

/** Lease states after which nothing is held. */
export const ENDED_LEASE_STATES = ["TERMINATED", "ERROR", "DELETED"];
