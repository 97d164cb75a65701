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

/** The groups Enos always wrote, even empty, so that a template may name them as children (KOLLA_MANDATORY_GROUPS). */
const MANDATORY_GROUPS = ["control", "compute", "network", "storage"];

/**
 * Roles that get a section written before the template, as Enos' generate_inventory did: every role of
 * the testbed, and every mandatory group, that the template has no plain `[role]` section for (those
 * it has are filled in place). So a template naming a role only as a child (`[control:children]
 * compute`, Enos' all-in-one inventory) still finds that role's hosts.
 */
export function generatedRoles(template: string, hosts: Host[]): string[] {
  const plain = new Set(
    parseInventory(template)
      .filter((s) => !s.children)
      .map((s) => s.name),
  );
  const roles = [...new Set([...hosts.flatMap((h) => h.roles), ...MANDATORY_GROUPS])];
  return roles.filter((role) => !plain.has(role));
}

/** The inventory's sections with their hosts: the generated role sections, then the template's, filled. */
function filledSections(template: string, hosts: Host[]): InventorySection[] {
  const aliases = (group: string) => groupHosts(group, hosts).map((h) => h.alias);
  return [
    ...generatedRoles(template, hosts).map((name) => ({ name, children: false, entries: aliases(name) })),
    ...parseInventory(template).map((s) => (s.children ? s : { ...s, entries: [...s.entries, ...aliases(s.name)] })),
  ];
}

/** The hosts of a group (a plain group's, or a :children group's children's, recursively). */
function resolve(group: string, sections: InventorySection[], seen = new Set<string>()): string[] {
  if (seen.has(group)) return [];
  seen.add(group);
  return sections
    .filter((s) => s.name === group)
    .flatMap((s) => (s.children ? s.entries.flatMap((child) => resolve(child, sections, seen)) : s.entries));
}

/** The aliases of a group's hosts, as Ansible reads the rendered inventory (each once, in order). */
export function groupMembers(template: string, hosts: Host[]): (group: string) => string[] {
  return membersIn(filledSections(template, hosts));
}

const membersIn = (sections: InventorySection[]) => (group: string) => [...new Set(resolve(group, sections))];

/**
 * Groups the inventory needs that no host fills: every role group that a service group runs on
 * (control, network, compute, and any custom role such as conductor-node) needs a host; storage and
 * monitoring may stay empty.
 */
export function unfilledGroups(template: string, hosts: Host[]): { group: string; neededBy: string[] }[] {
  const sections = filledSections(template, hosts);
  const members = membersIn(sections);
  const leaves = new Map<string, string[]>();
  for (const s of sections.filter((x) => x.children)) {
    for (const child of s.entries) {
      if (!sections.some((x) => x.name === child && x.children))
        leaves.set(child, [...(leaves.get(child) ?? []), s.name]);
    }
  }
  return [...leaves.entries()]
    .filter(([group]) => !OPTIONAL_GROUPS.has(group) && members(group).length === 0)
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
    ...(host.interfaces.api !== interfaces.api
      ? [["network_interface", host.interfaces.api] as [string, unknown]]
      : []),
    ...(host.interfaces.external !== interfaces.external
      ? [["neutron_external_interface", host.interfaces.external] as [string, unknown]]
      : []),
    ...Object.entries(host.extra),
  ];
  return [host.alias, ...vars.map(([k, v]) => `${k}=${iniValue(v)}`)].join(" ");
}

/**
 * The generated role sections (see generatedRoles), then the template with each plain group filled
 * with its role's hosts; everything else as written.
 */
export function renderInventory(
  template: string,
  hosts: Host[],
  interfaces: { api: string; external: string },
): string {
  const generated = generatedRoles(template, hosts).map((role) =>
    [`[${role}]`, ...groupHosts(role, hosts).map((h) => hostLine(h, interfaces))].join("\n"),
  );
  const out: string[] = generated.length
    ? [
        "# Written by enos, as Enos did: the testbed's roles that the inventory below has no section for.",
        ...generated.flatMap((s) => [s, ""]),
      ]
    : [];
  for (const line of template.split("\n")) {
    out.push(line);
    const header = /^\[([^\]:]+)\]\s*$/.exec(line.trim());
    if (header) out.push(...groupHosts(header[1], hosts).map((h) => hostLine(h, interfaces)));
  }
  return out.join("\n");
}
