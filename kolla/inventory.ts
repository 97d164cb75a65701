import type { Host } from "../config/types";

/** One section of an Ansible INI inventory: `[name]` with hosts, or `[name:children]` with groups. */
export interface InventorySection {
  name: string;
  children: boolean;
  entries: string[];
}

/** Sections of an INI inventory, in order; comments and `:vars` sections are left out. */
export function parseInventory(text: string): InventorySection[] {
  const sections: InventorySection[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]:]+)(:children|:vars)?\]$/.exec(line);
    if (header) {
      sections.push({ name: header[1], children: header[2] === ":children", entries: [] });
      if (header[2] === ":vars") sections.pop();
      continue;
    }
    sections.at(-1)?.entries.push(line.split(/\s+/)[0]);
  }
  return sections;
}

/** Roles every kolla-ansible deployment may leave empty. */
const OPTIONAL_GROUPS = new Set(["storage", "monitoring", "deployment"]);

/** The hosts of a group (a plain group with these role hosts, or a :children group, recursively). */
function resolve(group: string, sections: InventorySection[], hostsOf: (group: string) => string[], seen = new Set<string>()): string[] {
  if (seen.has(group)) return [];
  seen.add(group);
  return sections.filter((s) => s.name === group).flatMap((s) =>
    s.children ? s.entries.flatMap((child) => resolve(child, sections, hostsOf, seen)) : [...s.entries, ...hostsOf(group)]);
}

/**
 * Groups the inventory needs that no host fills: with a plain group per role, every role group that a
 * service group runs on (control, network, compute, and any custom role such as conductor-node) needs
 * a host; storage and monitoring may stay empty.
 */
export function unfilledGroups(template: string, hosts: Host[]): { group: string; neededBy: string[] }[] {
  const sections = parseInventory(template);
  const hostsOf = (group: string) => groupHosts(group, hosts).map((h) => h.alias);
  const leaves = new Map<string, string[]>();
  for (const s of sections.filter((x) => x.children)) {
    for (const child of s.entries) {
      if (!sections.some((x) => x.name === child && x.children)) leaves.set(child, [...(leaves.get(child) ?? []), s.name]);
    }
  }
  return [...leaves.entries()]
    .filter(([group]) => !OPTIONAL_GROUPS.has(group) && resolve(group, sections, hostsOf).length === 0)
    .map(([group, neededBy]) => ({ group, neededBy }));
}

/** The hosts that go in a role group: those with that role; monitoring falls back to the control hosts. */
export function groupHosts(group: string, hosts: Host[]): Host[] {
  const withRole = hosts.filter((h) => h.roles.includes(group));
  return withRole.length || group !== "monitoring" ? withRole : hosts.filter((h) => h.roles.includes("control"));
}

function iniValue(value: unknown): string {
  if (typeof value === "string") return /^[\w./:@-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "object" && value !== null) return `'${JSON.stringify(value)}'`;
  return String(value);
}

/** A host line as a kolla-ansible user writes it: connection variables, then the host's extra vars. */
export function hostLine(host: Host, interfaces: { api: string; external: string }): string {
  const vars: [string, unknown][] = [
    ["ansible_host", host.address],
    ...(host.user ? [["ansible_user", host.user] as [string, unknown]] : []),
    ...(host.port ? [["ansible_port", host.port] as [string, unknown]] : []),
    ...(host.keyfile ? [["ansible_ssh_private_key_file", host.keyfile] as [string, unknown]] : []),
    // Only where this host's interfaces differ from globals.yml's (eths given as CIDRs).
    ...(host.interfaces.api !== interfaces.api ? [["network_interface", host.interfaces.api] as [string, unknown]] : []),
    ...(host.interfaces.external !== interfaces.external ? [["neutron_external_interface", host.interfaces.external] as [string, unknown]] : []),
    ...Object.entries(host.extra),
  ];
  return [host.alias, ...vars.map(([k, v]) => `${k}=${iniValue(v)}`)].join(" ");
}

/** The template with each role group filled with its hosts; everything else as written. */
export function renderInventory(template: string, hosts: Host[], interfaces: { api: string; external: string }): string {
  const out: string[] = [];
  for (const line of template.split("\n")) {
    out.push(line);
    const header = /^\[([^\]:]+)\]\s*$/.exec(line.trim());
    if (header) out.push(...groupHosts(header[1], hosts).map((h) => hostLine(h, interfaces)));
  }
  return out.join("\n");
}
