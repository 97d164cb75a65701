/**
 * Keystone (v3 password auth) and Blazar (reservation API v1) calls for Chameleon's bare-metal
 * leases. Used inside dynamic providers, which are serialized: only globals (fetch) and arguments.
 */
export interface OpenstackAuth {
  authUrl: string;
  username: string;
  password: string;
  projectName?: string;
  projectId?: string;
  userDomainName: string;
  projectDomainName: string;
  region?: string;
}

export interface BlazarSession {
  token: string;
  /** The reservation service's public endpoint, ending in /v1. */
  endpoint: string;
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region_id?: string; region?: string; url: string }[];
}

/** A token and the reservation endpoint from the catalog, as python-blazarclient finds them. */
export async function blazarSession(auth: OpenstackAuth): Promise<BlazarSession> {
  const url = `${auth.authUrl.replace(/\/+$/, "").replace(/\/v3$/, "")}/v3/auth/tokens`;
  const project = auth.projectId ? { id: auth.projectId } : { name: auth.projectName, domain: { name: auth.projectDomainName } };
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ auth: {
      identity: { methods: ["password"], password: { user: { name: auth.username, domain: { name: auth.userDomainName }, password: auth.password } } },
      scope: { project },
    } }),
  }).catch((error: Error) => { throw new Error(`Keystone ${url}: ${error.cause ?? error.message}`); });
  if (response.status === 401) throw new Error(`Keystone ${url} refused the credentials of ${auth.username} (401); check OS_USERNAME/OS_PASSWORD/OS_PROJECT_*`);
  if (!response.ok) throw new Error(`Keystone ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const token = response.headers.get("x-subject-token") ?? "";
  const body = (await response.json()) as { token: { catalog?: CatalogEntry[] } };
  const service = body.token.catalog?.find((s) => s.type === "reservation");
  const endpoint = service?.endpoints.find((e) => e.interface === "public" && (!auth.region || (e.region_id ?? e.region) === auth.region));
  if (!endpoint) throw new Error(`the catalog of ${url} has no public reservation (Blazar) endpoint${auth.region ? ` in region ${auth.region}` : ""}`);
  const base = endpoint.url.replace(/\/+$/, "");
  return { token, endpoint: /\/v1$/.test(base) ? base : `${base}/v1` };
}

/** Calls Blazar and returns its JSON; `undefined` on 404 when `missingOk`. */
export async function blazarCall<T>(session: BlazarSession, method: string, path: string, body?: unknown, missingOk = false): Promise<T | undefined> {
  const url = `${session.endpoint}/${path}`;
  const response = await fetch(url, {
    method,
    headers: { "X-Auth-Token": session.token, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: Error) => { throw new Error(`Blazar ${method} ${url}: ${error.cause ?? error.message}`); });
  if (response.status === 404 && missingOk) return undefined;
  const text = await response.text();
  if (!response.ok) throw new Error(`Blazar ${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

export interface LeaseView {
  id: string;
  name: string;
  status: string;
  start_date: string;
  end_date: string;
  reservations: { id: string; status?: string; resource_type: string; resource_properties?: string; min?: number; max?: number }[];
}

/** Lease states after which nothing is held. */
export const ENDED_LEASE_STATES = ["TERMINATED", "ERROR", "DELETED"];
