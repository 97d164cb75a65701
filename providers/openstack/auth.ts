import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";

/**
 * Keystone v3 credentials, for enos' own calls to the cloud (Blazar leases, the sweep of an
 * experiment's objects): a password scoped to a project, or an application credential.
 */
export interface OpenStackAuth {
  authUrl: string;
  region?: string;
  username?: string;
  userDomainName?: string;
  userDomainId?: string;
  password?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
}

/**
 * Each field: the stack's `openstack:` key, the OS_* variables, the clouds.yaml key (as the provider reads them, in
 * that order).
 */
const FIELDS: [keyof OpenStackAuth, string, string[], string][] = [
  ["authUrl", "authUrl", ["OS_AUTH_URL"], "auth_url"],
  ["region", "region", ["OS_REGION_NAME"], "region_name"],
  ["username", "userName", ["OS_USERNAME"], "username"],
  ["userDomainName", "userDomainName", ["OS_USER_DOMAIN_NAME"], "user_domain_name"],
  ["userDomainId", "userDomainId", ["OS_USER_DOMAIN_ID"], "user_domain_id"],
  ["password", "password", ["OS_PASSWORD"], "password"],
  ["projectName", "tenantName", ["OS_PROJECT_NAME", "OS_TENANT_NAME"], "project_name"],
  ["projectId", "tenantId", ["OS_PROJECT_ID", "OS_TENANT_ID"], "project_id"],
  ["projectDomainName", "projectDomainName", ["OS_PROJECT_DOMAIN_NAME"], "project_domain_name"],
  ["projectDomainId", "projectDomainId", ["OS_PROJECT_DOMAIN_ID"], "project_domain_id"],
  ["applicationCredentialId", "applicationCredentialId", ["OS_APPLICATION_CREDENTIAL_ID"], "application_credential_id"],
  [
    "applicationCredentialName",
    "applicationCredentialName",
    ["OS_APPLICATION_CREDENTIAL_NAME"],
    "application_credential_name",
  ],
  [
    "applicationCredentialSecret",
    "applicationCredentialSecret",
    ["OS_APPLICATION_CREDENTIAL_SECRET"],
    "application_credential_secret",
  ],
];

/**
 * The credentials the stack's cloud is reached with, from the stack's `openstack:` keys, then the
 * OS_* variables (an openrc), then the clouds.yaml entry OS_CLOUD or `openstack:cloud` names; or why
 * there are none, naming what to set.
 */
export function openstackAuth(
  env: NodeJS.ProcessEnv,
  config: (key: string) => string | undefined,
  cwd = process.cwd(),
): { auth: OpenStackAuth } | { problem: string } {
  const cloudName = config("cloud") ?? env.OS_CLOUD;
  const cloud = cloudName ? cloudsYamlEntry(cloudName, env, cwd) : {};
  if (typeof cloud === "string") return { problem: cloud };
  const found: Partial<OpenStackAuth> = {};
  for (const [field, key, variables, cloudKey] of FIELDS) {
    const value = config(key) ?? variables.map((v) => env[v]).find(Boolean) ?? cloud[cloudKey];
    if (value) found[field] = String(value);
  }
  const missing: string[] = [];
  if (!found.authUrl) missing.push("OS_AUTH_URL (openstack:authUrl)");
  if (found.applicationCredentialSecret) {
    if (!found.applicationCredentialId && !(found.applicationCredentialName && found.username)) {
      missing.push("OS_APPLICATION_CREDENTIAL_ID (or _NAME with OS_USERNAME)");
    }
  } else {
    if (!found.username) missing.push("OS_USERNAME (openstack:userName)");
    if (!found.password) missing.push("OS_PASSWORD (openstack:password)");
    if (!found.projectId && !found.projectName)
      missing.push("OS_PROJECT_ID or OS_PROJECT_NAME (openstack:tenantId or openstack:tenantName)");
  }
  if (missing.length) {
    return {
      problem:
        `incomplete OpenStack credentials: ${missing.join(", ")} not set${cloudName ? ` (nor in clouds.yaml's ${cloudName})` : ""}; ` +
        "source your openrc, or use an application credential (OS_APPLICATION_CREDENTIAL_ID and _SECRET)",
    };
  }
  if (!found.userDomainId) found.userDomainName ??= "Default";
  if (!found.projectDomainId) found.projectDomainName ??= found.userDomainName ?? "Default";
  return { auth: found as OpenStackAuth };
}

/** What names the cloud, user and project of credentials: all of them but their secret. */
export type CloudIdentity = Omit<OpenStackAuth, "password" | "applicationCredentialSecret">;

/**
 * The identity of credentials, kept in the state by enos' resources that call the cloud; their secret
 * is read again at each call (see credentialsNow): a password rotated or an application credential
 * renewed since the up is then used, and no copy of the secret is kept.
 */
export function cloudIdentity(auth: OpenStackAuth): CloudIdentity {
  const { password: _password, applicationCredentialSecret: _secret, ...identity } = auth;
  return identity;
}

const IDENTITY_KEYS = [
  "username",
  "userDomainName",
  "userDomainId",
  "projectName",
  "projectId",
  "projectDomainName",
  "projectDomainId",
  "applicationCredentialId",
  "applicationCredentialName",
] as const;

/**
 * Credentials for the cloud, user and project `identity` names, as they can be read now: the OS_*
 * variables and the clouds.yaml entry OS_CLOUD names first (an openrc sourced now), then the stack's
 * `openstack:` keys (at a destroy, as the last update read them: the engine keeps its providers'
 * configuration in the state). Those of another cloud, user or project are left out: an openrc of another
 * project must not make a destroy look in the wrong place and find nothing. Or why there are none.
 */
export function credentialsNow(
  identity: CloudIdentity,
  env: NodeJS.ProcessEnv,
  config: (key: string) => string | undefined,
): OpenStackAuth[] | string {
  const endpoint = (url: string) => url.replace(/\/+$/, "").replace(/\/v3$/, "");
  const same = (auth: OpenStackAuth) =>
    endpoint(auth.authUrl) === endpoint(identity.authUrl) &&
    IDENTITY_KEYS.every((key) => auth[key] === undefined || identity[key] === undefined || auth[key] === identity[key]);
  const found = [openstackAuth(env, () => undefined), openstackAuth(env, config)];
  const usable = found.flatMap((f) => ("auth" in f && same(f.auth) ? [f.auth] : []));
  if (usable.length > 0)
    return usable.filter(
      (auth, i) => usable.findIndex((other) => JSON.stringify(other) === JSON.stringify(auth)) === i,
    );
  const who = (a: CloudIdentity) =>
    `${a.username ?? a.applicationCredentialId ?? a.applicationCredentialName} in project ` +
    `${a.projectName ?? a.projectId ?? "(of the application credential)"} at ${a.authUrl}`;
  const seen = [...new Set(found.map((f) => ("problem" in f ? f.problem : who(f.auth))))];
  return (
    `no credentials for ${who(identity)} (found: ${seen.join("; ")}); ` +
    "source that project's openrc (or set OS_CLOUD to its clouds.yaml entry), or set the stack's openstack: keys, and run again"
  );
}

/** A clouds.yaml entry's auth keys and region, merged with secure.yaml's, where openstacksdk looks for them. */
function cloudsYamlEntry(name: string, env: NodeJS.ProcessEnv, cwd: string): Record<string, unknown> | string {
  const dirs = [cwd, path.join(os.homedir(), ".config", "openstack"), "/etc/openstack"];
  const files = (base: string, variable: string) =>
    [env[variable], ...dirs.map((d) => path.join(d, base))].filter((f): f is string => !!f && fs.existsSync(f));
  const entry = (file: string | undefined) => {
    const clouds = file
      ? (
          yaml.load(fs.readFileSync(file, "utf8")) as {
            clouds?: Record<string, { auth?: object; region_name?: string }>;
          }
        )?.clouds
      : undefined;
    const cloud = clouds?.[name];
    return cloud ? { ...cloud.auth, ...(cloud.region_name ? { region_name: cloud.region_name } : {}) } : undefined;
  };
  const [cloudsFile] = files("clouds.yaml", "OS_CLIENT_CONFIG_FILE");
  const found = entry(cloudsFile);
  if (!found)
    return `OS_CLOUD (or openstack:cloud) is ${name}, but ${cloudsFile ?? `no clouds.yaml (looked in ${dirs.join(", ")})`} has no such cloud`;
  return { ...found, ...entry(files("secure.yaml", "OS_CLIENT_SECURE_FILE")[0]) };
}
