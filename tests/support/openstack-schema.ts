import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";

export interface OpenStackSchema {
  resources: Record<string, { inputProperties?: Record<string, unknown> }>;
  functions: Record<string, { inputs?: { properties?: Record<string, unknown> } }>;
}

/**
 * The schema of the openstack plugin the engine would start for @pulumi/openstack (ours or an official one), read by
 * the project's CLI.
 */
export function installedOpenStackSchema(): OpenStackSchema {
  const version: string = require("@pulumi/openstack/package.json").version.replace(/^v/, "");
  const result = spawnSync(path.join(PROJECT_DIR, "bin", "pulumi"), ["package", "get-schema", `openstack@${version}`], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  if (result.status !== 0) {
    throw new Error(
      `cannot read the schema of the openstack plugin v${version} (${result.stderr.trim()}): scripts/setup builds and installs it`,
    );
  }
  return JSON.parse(result.stdout) as OpenStackSchema;
}
