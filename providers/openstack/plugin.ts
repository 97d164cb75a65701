import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * @pulumi/openstack needs its Go plugin, pulumi-resource-openstack, which the engine would try to
 * download; enos forbids downloads (PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION), and scripts/setup
 * builds and installs it (plugins/openstack). Say so before anything starts, with where it was looked for.
 */
export function openstackPluginProblem(engineHome: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const version: string = require("@pulumi/openstack/package.json").version.replace(/^v/, "");
  const homes = [...new Set([engineHome, env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi")])];
  const installed = homes.map((home) =>
    path.join(home, "plugins", `resource-openstack-v${version}`, "pulumi-resource-openstack"),
  );
  const onPath = (env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.join(d, "pulumi-resource-openstack"));
  if ([...installed, ...onPath].some((file) => fs.existsSync(file))) return undefined;
  return (
    `missing plugin: openstack v${version} (pulumi-resource-openstack; looked for ${installed.join(", ")} and on PATH). ` +
    `scripts/setup builds it and installs it in ${engineHome} (or, with internet, in this project: \`pulumi plugin install resource openstack ${version}\`)`
  );
}
