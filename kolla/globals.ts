import * as yaml from "js-yaml";
import { DEFAULT_OPENSTACK_RELEASE, KOLLA_ANSIBLE_RELEASES } from "../config/releases";
import type { RegistryConfig } from "../config/schema";
import type { Host, TestbedNetwork } from "../config/types";

export { DEFAULT_OPENSTACK_RELEASE, KOLLA_ANSIBLE_RELEASES };

/** The interface names most hosts have: globals.yml's; hosts that differ get host variables. */
export function commonInterfaces(hosts: Host[]): { api: string; external: string } {
  const mostCommon = (names: string[]) => {
    const counts = new Map<string, number>();
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? "";
  };
  return {
    api: mostCommon(hosts.map((h) => h.interfaces.api)),
    external: mostCommon(hosts.map((h) => h.interfaces.external)),
  };
}

function registryGlobals(registry: RegistryConfig, network: TestbedNetwork): Record<string, unknown> {
  switch (registry.type) {
    case "none":
      return {};
    case "internal":
      // The mirror runs on the control host, at the registry VIP.
      return { docker_registry: `${network.vips.registry.address}:${registry.port}`, docker_registry_insecure: true };
    case "external":
      return { docker_registry: `${registry.ip}:${registry.port}`, docker_registry_insecure: true };
  }
}

export interface GlobalsInput {
  hosts: Host[];
  network: TestbedNetwork;
  registry: RegistryConfig;
  /** The user's `kolla:` mapping: it wins over every default. */
  kolla: Record<string, unknown>;
}

/** globals.yml's values: what the testbed implies, then the user's `kolla:` keys over them. */
export function globalsOf({ hosts, network, registry, kolla }: GlobalsInput): Record<string, unknown> {
  const interfaces = commonInterfaces(hosts);
  return {
    openstack_release: DEFAULT_OPENSTACK_RELEASE,
    kolla_internal_vip_address: network.vips.internal.address,
    network_interface: interfaces.api,
    neutron_external_interface: interfaces.external,
    ...registryGlobals(registry, network),
    ...kolla,
  };
}

export function renderGlobals(input: GlobalsInput): string {
  return `# Written by enos: defaults from the testbed, then the experiment's kolla: keys.\n${yaml.dump(globalsOf(input), { lineWidth: -1 })}`;
}

/** The kolla-ansible release to install for a globals.yml, or an error naming the key and the fix. */
export function kollaAnsibleRelease(globals: Record<string, unknown>): string {
  const release = String(globals.openstack_release);
  const version = KOLLA_ANSIBLE_RELEASES[release];
  if (!version) {
    throw new Error(
      `kolla.openstack_release ${release} has no known kolla-ansible release (known: ${Object.keys(KOLLA_ANSIBLE_RELEASES).join(", ")}); pick one of those or set kolla_repo and kolla_ref`,
    );
  }
  return version;
}
