import type { Command } from "commander";
import type { ExperimentConfig } from "../config/load";
import { renderNormalizedYaml } from "../config/normalized";
import type { TestbedNetwork } from "../config/types";
import { ENOS_VIP_KEYS, VIP_NAMES } from "../config/vips";
import { staticHostsOf } from "../kolla/render";
import { localNetwork } from "../providers/local/plan";
import { vagrantNetwork } from "../providers/vagrant/render";
import { exitWith, type GlobalOptions, validate } from "./context";

/** The network of a testbed whose addresses the configuration alone decides; others learn theirs when acquired. */
export function plannedNetwork(config: ExperimentConfig): TestbedNetwork | undefined {
  switch (config.provider.type) {
    case "static":
      return staticHostsOf(config).network;
    case "local":
      return localNetwork(config.provider.api_cidr, config.provider.external_cidr);
    case "vagrant":
      return vagrantNetwork();
    default:
      return undefined;
  }
}

/** Each VIP under Enos' name, with its address and where it was taken from. */
function vipsOf(network: TestbedNetwork) {
  return Object.fromEntries(VIP_NAMES.map((n) => [ENOS_VIP_KEYS[n], network.vips[n]]));
}

/**
 * `enos check`: the normalized configuration (YAML, defaults marked `# default`; or JSON for tools,
 * defaults listed by key path), then Kolla's VIPs and the external pool left after them.
 */
export function renderCheck(config: ExperimentConfig, json: boolean): string {
  const network = plannedNetwork(config);
  if (json) {
    const vips = network
      ? { vips: vipsOf(network), external_pool: { start: network.external.start, end: network.external.end } }
      : {};
    return `${JSON.stringify({ config: config.normalized.value, defaults: config.normalized.defaults, ...vips }, null, 2)}\n`;
  }
  const tail = network
    ? [
        "# Kolla's VIPs, taken as Enos took them: the last of extra_ips first, then the end of start..end",
        ...Object.entries(vipsOf(network)).map(([key, vip]) => `# ${key}: ${vip.address}  (${vip.from})`),
        `# external pool after them: ${network.external.start}..${network.external.end}`,
      ]
    : [`# Kolla's VIPs: known once the ${config.provider.type} testbed is acquired (enos info --json shows them)`];
  return `${renderNormalizedYaml(config.normalized)}${tail.join("\n")}\n`;
}

export function register(program: Command) {
  program
    .command("check")
    .description(
      "validate a configuration (-f reservation.yaml, or the stack's) and print it normalized: your keys, defaults filled in (# default), Kolla's VIPs; every error names its key and the fix",
    )
    .option("--json", "the same as JSON, for tools: {config, defaults, vips, external_pool}")
    .action(
      exitWith(async (options: { json?: boolean }, command: Command) => {
        process.stdout.write(renderCheck(validate(command.optsWithGlobals<GlobalOptions>()), options.json === true));
        return 0;
      }),
    );
}
