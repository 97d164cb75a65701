import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import type { G5kAccount, G5kApi, G5kCredentials } from "./api";

/**
 * Grid'5000 API credentials: the stack secrets `enos:g5k_username` and `enos:g5k_password`
 * (`pulumi config set --secret`), else the user's python-grid5000 file (`username:`, `password:`).
 * `config` reads the stack's `enos:` keys (the program's, or a dynamic provider's at each call).
 */
export function g5kCredentials(config: (key: string) => string | undefined, credentialsFile: string): G5kCredentials {
  const username = config("g5k_username");
  const password = config("g5k_password");
  if (username && password) return { username, password };
  const file = credentialsFile.startsWith("~/") ? path.join(os.homedir(), credentialsFile.slice(2)) : credentialsFile;
  const fix =
    "set them with `pulumi config set enos:g5k_username LOGIN` and `pulumi config set --secret enos:g5k_password`, " +
    `or write ${file} with username: and password: keys (provider.credentials_file names another file)`;
  if (!fs.existsSync(file)) throw new Error(`Grid'5000 credentials missing: ${fix}`);
  const data = yaml.load(fs.readFileSync(file, "utf8")) as Record<string, unknown> | undefined;
  if (typeof data?.username !== "string" || typeof data?.password !== "string") {
    throw new Error(`Grid'5000 credentials: ${file} has no username and password keys; ${fix}`);
  }
  return { username: data.username, password: data.password };
}

/** The credentials as the program reads them, for its own lookups (sites, clusters). */
export function readG5kCredentials(credentialsFile: string): G5kCredentials {
  return g5kCredentials((key) => pulumi.runtime.getConfig(`enos:${key}`), credentialsFile);
}

/** The API of `account` with the credentials that can be read now (in a dynamic provider: its stack keys). */
export function g5kApiNow(account: G5kAccount, config: (key: string) => string | undefined): G5kApi {
  return { url: account.url, credentials: g5kCredentials(config, account.credentialsFile) };
}
