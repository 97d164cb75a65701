import type * as pulumi from "@pulumi/pulumi";
import { type CloudIdentity, credentialsNow, type OpenStackAuth } from "./auth";

/**
 * Keystone v3 tokens and plain calls to OpenStack's REST APIs, for enos' own resources (Blazar
 * leases, the sweep). Runs inside dynamic providers: ARCHITECTURE.md, "The serialization rule".
 */
export interface OpenStackSession {
  token: string;
  authUrl: string;
  region?: string;
  catalog: { type: string; endpoints: { interface: string; region_id?: string; region?: string; url: string }[] }[];
}

/**
 * The stack's `openstack:` (or `namespace`:) keys as the engine hands them to a dynamic provider: it
 * passes the whole stack configuration to its configure. (Held in an object, so that the provider's
 * functions share it: ARCHITECTURE.md, "The serialization rule".)
 */
export function stackKeys(namespace = "openstack") {
  const held: { config?: pulumi.dynamic.Config } = {};
  return {
    configure: async (request: pulumi.dynamic.ConfigureRequest) => {
      held.config = request.config;
    },
    get: (key: string) => held.config?.get(`${namespace}:${key}`),
  };
}

/**
 * A session on the cloud `identity` names, with the credentials that can be read now (see
 * credentialsNow), the first Keystone accepts.
 */
export async function cloudSession(
  identity: CloudIdentity,
  config: (key: string) => string | undefined,
): Promise<OpenStackSession> {
  const candidates = credentialsNow(identity, process.env, config);
  if (typeof candidates === "string") throw new Error(candidates);
  let refused: unknown;
  for (const auth of candidates) {
    try {
      return await keystoneSession(auth);
    } catch (error) {
      // Refused (401): a stale copy, such as the stack's key after a rotation; the next one may do.
      if (!String(error).includes("(401)")) throw error;
      refused = error;
    }
  }
  throw refused;
}

/** A token and the catalog, for a password scoped to a project or an application credential. */
export async function keystoneSession(auth: OpenStackAuth): Promise<OpenStackSession> {
  const url = `${auth.authUrl.replace(/\/+$/, "").replace(/\/v3$/, "")}/v3/auth/tokens`;
  const domain = (id?: string, name?: string) => (id ? { id } : { name });
  const identity = auth.applicationCredentialSecret
    ? {
        methods: ["application_credential"],
        application_credential: auth.applicationCredentialId
          ? { id: auth.applicationCredentialId, secret: auth.applicationCredentialSecret }
          : {
              name: auth.applicationCredentialName,
              secret: auth.applicationCredentialSecret,
              user: { name: auth.username, domain: domain(auth.userDomainId, auth.userDomainName) },
            },
      }
    : {
        methods: ["password"],
        password: {
          user: {
            name: auth.username,
            domain: domain(auth.userDomainId, auth.userDomainName),
            password: auth.password,
          },
        },
      };
  const scope = auth.applicationCredentialSecret
    ? undefined
    : {
        project: auth.projectId
          ? { id: auth.projectId }
          : { name: auth.projectName, domain: domain(auth.projectDomainId, auth.projectDomainName) },
      };
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ auth: { identity, ...(scope ? { scope } : {}) } }),
  }).catch((error: Error) => {
    throw new Error(`Keystone ${url}: ${error.cause ?? error.message}`);
  });
  if (response.status === 401) {
    throw new Error(
      `Keystone ${url} refused the credentials of ${auth.username ?? auth.applicationCredentialId} (401); check OS_USERNAME/OS_PASSWORD/OS_PROJECT_* or the application credential`,
    );
  }
  if (!response.ok)
    throw new Error(`Keystone ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const body = (await response.json()) as { token: { catalog?: OpenStackSession["catalog"] } };
  return {
    token: response.headers.get("x-subject-token") ?? "",
    authUrl: url,
    region: auth.region,
    catalog: body.token.catalog ?? [],
  };
}

/** The public endpoint of a service type (in the session's region, if any), without a trailing slash. */
export function serviceEndpoint(session: OpenStackSession, type: string, name: string): string {
  const service = session.catalog.find((s) => s.type === type);
  const endpoint = service?.endpoints.find(
    (e) => e.interface === "public" && (!session.region || (e.region_id ?? e.region) === session.region),
  );
  if (!endpoint)
    throw new Error(
      `the catalog of ${session.authUrl} has no public ${type} (${name}) endpoint${session.region ? ` in region ${session.region}` : ""}`,
    );
  return endpoint.url.replace(/\/+$/, "");
}

/** Calls `service` (named in errors) and returns its JSON; `undefined` on 404 when `missingOk`. */
export async function openstackCall<T>(
  session: OpenStackSession,
  service: string,
  method: string,
  url: string,
  body?: unknown,
  missingOk = false,
): Promise<T | undefined> {
  const response = await fetch(url, {
    method,
    headers: {
      "X-Auth-Token": session.token,
      Accept: "application/json",
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: Error) => {
    throw new Error(`${service} ${method} ${url}: ${error.cause ?? error.message}`);
  });
  if (response.status === 404 && missingOk) return undefined;
  const text = await response.text();
  if (!response.ok) throw new Error(`${service} ${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : {}) as T;
}
