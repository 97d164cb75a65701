/**
 * The few Grid'5000 REST API calls the testbed makes (api.grid5000.fr/stable, HTTP basic auth).
 * Runs inside dynamic providers: ARCHITECTURE.md, "The serialization rule".
 */
export interface G5kCredentials {
  username: string;
  password: string;
}

export interface G5kApi {
  /** Base URL ending with a slash, e.g. https://api.grid5000.fr/stable/ */
  url: string;
  credentials: G5kCredentials;
}

/**
 * Which API, as enos' resources keep it in the state: the credentials are read again at each call
 * (see g5kApiNow), so a password changed since the up is used, and no copy of it is kept.
 */
export interface G5kAccount {
  url: string;
  /** The python-grid5000 file read when the stack has no enos:g5k_username/g5k_password. */
  credentialsFile: string;
}

/** Tries of a read or a delete before its failure counts: a poll over hours must outlive a network hiccup. */
const TRIES = 4;

/**
 * Calls the API and returns its JSON; `undefined` on 404 when `missingOk`. GET and DELETE are tried
 * again after a network error or a 502/503/504 (1, 2, 4 s later); a POST is not, since it may have
 * submitted a job.
 */
export async function g5kCall<T>(
  api: G5kApi,
  method: string,
  path: string,
  body?: unknown,
  missingOk = false,
): Promise<T | undefined> {
  const url = new URL(path, api.url.endsWith("/") ? api.url : `${api.url}/`);
  const auth = Buffer.from(`${api.credentials.username}:${api.credentials.password}`).toString("base64");
  const tries = method === "POST" ? 1 : TRIES;
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined;
    let failure: Error | undefined;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Authorization: `Basic ${auth}`,
          Accept: "application/json",
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      failure = error as Error;
    }
    if (attempt < tries && (!response || [502, 503, 504].includes(response.status))) {
      await new Promise((resolve) => setTimeout(resolve, 2 ** (attempt - 1) * 1000));
      continue;
    }
    if (!response) throw new Error(`Grid'5000 API ${method} ${url}: ${failure?.cause ?? failure?.message}`);
    if (response.status === 404 && missingOk) return undefined;
    const text = await response.text();
    if (response.status === 401)
      throw new Error(
        `Grid'5000 API refused the credentials of ${api.credentials.username} (401); check enos:g5k_username/enos:g5k_password or your ~/.python-grid5000.yaml`,
      );
    if (!response.ok)
      throw new Error(`Grid'5000 API ${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

/** Polls `check` every `pollSeconds` until it returns a value, or fails after `timeoutSeconds` with `what`. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  pollSeconds: number,
  timeoutSeconds: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline)
      throw new Error(`${what}: still not done after ${timeoutSeconds} s (provider.wait_timeout)`);
    await new Promise((resolve) => setTimeout(resolve, pollSeconds * 1000));
  }
}

/** An OAR job as the API shows it (the fields used here). */
export interface OarJobView {
  uid: number;
  name?: string;
  state: string;
  types?: string[];
  assigned_nodes?: string[];
  resources_by_type?: { vlans?: string[]; subnets?: string[] };
  walltime?: number;
  started_at?: number;
}

/** Job states after which the job holds no node any more. */
export const ENDED_STATES = ["terminated", "error", "killed"];
