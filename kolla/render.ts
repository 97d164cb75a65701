import * as fs from "node:fs";
import * as path from "node:path";
import type { ExperimentConfig } from "../config/load";
import { PROJECT_DIR } from "../config/paths";
import type { Host, TestbedNetwork } from "../config/types";
import { testbedNetwork } from "../config/vips";
import { commonInterfaces, renderGlobals } from "./globals";
import { renderInventory, unfilledGroups } from "./inventory";
import { renderPasswords } from "./passwords";

/** enos' own default inventory (the group structure of kolla-ansible's multinode). */
export const DEFAULT_INVENTORY_FILE = path.join(PROJECT_DIR, "kolla", "inventory.default");

export interface KollaFiles {
  multinode: string;
  globals: string;
  passwords: string;
}

export type KollaSettings = Pick<ExperimentConfig, "inventory" | "registry" | "kolla">;

export const inventoryTemplate = (config: Pick<ExperimentConfig, "inventory">) =>
  fs.readFileSync(config.inventory ?? DEFAULT_INVENTORY_FILE, "utf8");

/** Groups the inventory needs that the testbed's hosts leave empty, as one message naming the roles to add. */
export function inventoryProblems(template: string, hosts: Host[]): string | undefined {
  const missing = unfilledGroups(template, hosts);
  return missing.length
    ? `the inventory needs hosts that the testbed does not give:\n${missing
        .map(
          (m) =>
            `  - group ${m.group} (needed by ${m.neededBy.join(", ")}) has no host: add role ${m.group} to resources or topology`,
        )
        .join("\n")}`
    : undefined;
}

/**
 * What kolla-ansible is handed: the inventory, globals.yml and passwords.yml. `passwords` maps each
 * key to its value; a dry run passes a mask instead.
 */
export function renderKollaFiles(
  config: KollaSettings,
  hosts: Host[],
  network: TestbedNetwork,
  passwords: Record<string, unknown>,
): KollaFiles {
  return {
    multinode: renderInventory(inventoryTemplate(config), hosts, commonInterfaces(hosts)),
    globals: renderGlobals({ hosts, network, registry: config.registry, kolla: config.kolla }),
    passwords: renderPasswords(passwords),
  };
}

/** Hosts of a static testbed as its reservation file describes them, before any probe. */
export function staticHostsOf(config: ExperimentConfig): { hosts: Host[]; network: TestbedNetwork } {
  if (config.provider.type !== "static") {
    throw new Error(
      `the hosts of a ${config.provider.type} testbed are known once acquired: use --stack NAME on a stack that is up`,
    );
  }
  const [api, external] = config.provider.eths;
  const { extra_ips: extraIps, start, end, cidr, gateway, dns } = config.provider.network;
  const hosts = config.staticHosts.map(
    (h): Host => ({
      alias: h.alias ?? h.address,
      address: h.address,
      user: h.user,
      port: h.port,
      keyfile: h.keyfile,
      roles: h.roles,
      groups: h.groups,
      extra: h.extra,
      interfaces: { api, external },
      ips: [h.address],
      devices: [api],
      kernel: { htb: true, netem: true },
    }),
  );
  return { hosts, network: testbedNetwork(extraIps, { start, end, cidr, gateway, dns }, [api, external]) };
}
