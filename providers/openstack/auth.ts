import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";

/**
 * Keystone v3 credentials, for enos' own calls to the cloud (Blazar leases, the sweep of an
 * experiment's objects): a password scoped to a project, or an application credential.
 */
export interface OpenstackAuth {
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

/** Each field: the stack's `openstack:` key, the OS_* variables, the clouds.yaml key (as the provider reads them, in that order). */
const FIELDS: [keyof OpenstackAuth, string, string[], string][] = [
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
  ["applicationCredentialName", "applicationCredentialName", ["OS_APPLICATION_CREDENTIAL_NAME"], "application_credential_name"],
  ["applicationCredentialSecret", "applicationCredentialSecret", ["OS_APPLICATION_CREDENTIAL_SECRET"], "application_credential_secret"],
];

/**
 * The credentials the stack's cloud is reached with, from the stack's `openstack:` keys, then the
 * OS_* variables (an openrc), then the clouds.yaml entry OS_CLOUD or `openstack:cloud` names; or why
 * there are none, naming what to set.
 */
export function openstackAuth(env: NodeJS.ProcessEnv, config: (key: string) => string | undefined, cwd = process.cwd()): { auth: OpenstackAuth } | { problem: string } {
  const cloudName = config("cloud") ?? env.OS_CLOUD;
  const cloud = cloudName ? cloudsYamlEntry(cloudName, env, cwd) : {};
  if (typeof cloud === "string") return { problem: cloud };
  const found: Partial<OpenstackAuth> = {};
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
    if (!found.projectId && !found.projectName) missing.push("OS_PROJECT_ID or OS_PROJECT_NAME (openstack:tenantId or openstack:tenantName)");
  }
  if (missing.length) {
    return { problem: `incomplete OpenStack credentials: ${missing.join(", ")} not set${cloudName ? ` (nor in clouds.yaml's ${cloudName})` : ""}; ` +
      "source your openrc, or use an application credential (OS_APPLICATION_CREDENTIAL_ID and _SECRET)" };
  }
  if (!found.userDomainId) found.userDomainName ??= "Default";
  if (!found.projectDomainId) found.projectDomainName ??= found.userDomainName ?? "Default";
  return { auth: found as OpenstackAuth };
}

/** A clouds.yaml entry's auth keys and region, merged with secure.yaml's, where openstacksdk looks for them. */
function cloudsYamlEntry(name: string, env: NodeJS.ProcessEnv, cwd: string): Record<string, unknown> | string {
  const dirs = [cwd, path.join(os.homedir(), ".config", "openstack"), "/etc/openstack"];
  const files = (base: string, variable: string) => [env[variable], ...dirs.map((d) => path.join(d, base))].filter((f): f is string => !!f && fs.existsSync(f));
  const entry = (file: string | undefined) => {
    const clouds = file ? (yaml.load(fs.readFileSync(file, "utf8")) as { clouds?: Record<string, { auth?: object; region_name?: string }> })?.clouds : undefined;
    const cloud = clouds?.[name];
    return cloud ? { ...cloud.auth, ...(cloud.region_name ? { region_name: cloud.region_name } : {}) } : undefined;
  };
  const [cloudsFile] = files("clouds.yaml", "OS_CLIENT_CONFIG_FILE");
  const found = entry(cloudsFile);
  if (!found) return `OS_CLOUD (or openstack:cloud) is ${name}, but ${cloudsFile ?? `no clouds.yaml (looked in ${dirs.join(", ")})`} has no such cloud`;
  return { ...found, ...entry(files("secure.yaml", "OS_CLIENT_SECURE_FILE")[0]) };
}
