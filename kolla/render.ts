import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { ExperimentConfig } from "../config/load";
import { PROJECT_DIR } from "../config/paths";
import type { Host, TestbedNetwork } from "../config/types";
import { commonInterfaces, renderGlobals } from "./globals";
import { renderInventory, unfilledGroups } from "./inventory";

/** enos' own default inventory (the group structure of kolla-ansible's multinode). */
export const DEFAULT_INVENTORY_FILE = path.join(PROJECT_DIR, "kolla", "inventory.default");

/** The keys of a release's passwords.yml template (kolla-ansible's etc_examples/kolla/passwords.yml). */
export function passwordKeys(template: string): string[] {
  return Object.keys((yaml.load(template) ?? {}) as Record<string, unknown>);
}

export interface KollaFiles {
  multinode: string;
  globals: string;
  passwords: string;
}

/**
 * What kolla-ansible is handed: the inventory, globals.yml and passwords.yml. `passwords` maps each
 * key to its value; a dry run passes a mask instead.
 */
export function renderKollaFiles(config: ExperimentConfig, hosts: Host[], network: TestbedNetwork, passwords: Record<string, string>): KollaFiles {
  const template = fs.readFileSync(config.inventory ?? DEFAULT_INVENTORY_FILE, "utf8");
  const missing = unfilledGroups(template, hosts);
  if (missing.length) {
    throw new Error(`the inventory needs hosts that the testbed does not give:\n${missing.map((m) =>
      `  - group ${m.group} (needed by ${m.neededBy.join(", ")}) has no host: add role ${m.group} to resources or topology`).join("\n")}`);
  }
  return {
    multinode: renderInventory(template, hosts, commonInterfaces(hosts)),
    globals: renderGlobals({ hosts, network, registry: config.registry, kolla: config.kolla }),
    passwords: yaml.dump(passwords),
  };
}

/** Hosts of a static testbed as its reservation file describes them, before any probe. */
export function staticHostsOf(config: ExperimentConfig): { hosts: Host[]; network: TestbedNetwork } {
  if (config.provider.type !== "static") {
    throw new Error(`the hosts of a ${config.provider.type} testbed are known once acquired: use --stack NAME on a stack that is up`);
  }
  const [api, external] = config.provider.eths;
  const { extra_ips: extraIps, start, end, cidr, gateway, dns } = config.provider.network;
  const hosts = config.staticHosts.map((h): Host => ({
    alias: h.alias ?? h.address, address: h.address, user: h.user, port: h.port, keyfile: h.keyfile, roles: h.roles, groups: h.groups,
    extra: h.extra, interfaces: { api, external }, ips: [h.address], devices: [api], kernel: { htb: true, netem: true },
  }));
  return { hosts, network: { extraIps, external: { start, end, cidr, gateway, dns }, eths: [api, external] } };
}
