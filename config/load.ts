import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { ConfigError, type ConfigProblem, describe, keyNames, problemsFrom } from "./errors";
import { type NormalizedConfig, normalize } from "./normalized";
import { expandKeys, expandRange } from "./ranges";
import { KOLLA_ANSIBLE_RELEASES } from "./releases";
import {
  countedRoles,
  DEFAULT_INVENTORY,
  experiment,
  localRoles,
  type NetworkConstraintsConfig,
  type PatchConfig,
  type PhaseTimeouts,
  PROVIDER_TYPES,
  type ProviderConfig,
  type ProviderType,
  type RegistryConfig,
  type StaticHost,
  staticRoles,
  vagrantRoles,
} from "./schema";
import type { RoleDemand } from "./types";
import { booleanSpellings, loadYaml11 } from "./yaml11";

/** A static host with the roles and groups the configuration gives it. */
export interface StaticHostDemand extends StaticHost {
  roles: string[];
  groups: string[];
}

/** The validated experiment: an Enos reservation's keys (snake_case in the stack), camelCase inside. */
export interface ExperimentConfig {
  provider: ProviderConfig;
  /** Counted providers: hosts to acquire per role. */
  demands: RoleDemand[];
  /** Static provider: the hosts as given, one entry per address. */
  staticHosts: StaticHostDemand[];
  /** Group names after range expansion; empty without a topology. */
  groups: string[];
  networkConstraints?: NetworkConstraintsConfig;
  kolla: Record<string, unknown>;
  kollaRepo?: string;
  kollaRef?: string;
  kollaMode: "deploy" | "check" | "none";
  /** Debian's OpenStack in the control host's namespace (local testbed, kolla check mode). */
  devCloud: boolean;
  /** Absolute path of a user inventory, or undefined for the default one. */
  inventory?: string;
  patches: PatchConfig[];
  registry: RegistryConfig;
  enableMonitoring: boolean;
  workload?: string;
  /** init's cirros: a URL or a file; undefined: the default download (or the dev cloud's own). */
  initImage?: string;
  benchRunId?: string;
  backupOnDestroy: boolean;
  /** Per phase, how long one of its commands may run. */
  timeouts: PhaseTimeouts;
  /** Things that are not errors but that the user should know. */
  warnings: string[];
  /** What `enos check` prints: the user's keys, defaults filled in and listed. */
  normalized: NormalizedConfig;
  /** What `{{ cwd }}` stands for in patches, as Enos' working directory: the experiment directory. */
  cwd: string;
}

/** Roles the default inventory cannot do without. */
export const REQUIRED_ROLES = ["control", "compute", "network"];

const KNOWN_KEYS = keyNames(experiment);
const TOP_LEVEL_KEYS = new Set([...Object.keys(experiment.shape), "reservationFile"]);

/**
 * Whether a stack config key's text is its value as it is (else it is JSON): the engine hands every
 * value over as text, a YAML mapping as its JSON. A key whose schema takes the text is text; text
 * that is not JSON stays text too, for the schema to say what is wrong with it. resources and
 * topology are mappings whose shape the provider decides (resourcesOf).
 */
export function readsAsText(key: string, text: string): boolean {
  if (key === "resources" || key === "topology") return !isJson(text);
  const schema = (experiment.shape as Record<string, z.ZodType | undefined>)[key];
  return schema === undefined || schema.safeParse(text).success || !isJson(text);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** init_image's other form: a URL, downloaded by init, not a path. */
const isUrl = (value: string) => /^https?:\/\//.test(value);

/** Keys whose value is a path, resolved against the directory of the file that set it. */
function resolvePaths(raw: Record<string, unknown>, dir: string): Record<string, unknown> {
  const out = { ...raw };
  const resolve = (p: unknown) => (typeof p === "string" && !path.isAbsolute(p) ? path.join(dir, p) : p);
  if (typeof out.inventory === "string" && out.inventory !== DEFAULT_INVENTORY) out.inventory = resolve(out.inventory);
  if (out.workload !== undefined) out.workload = resolve(out.workload);
  if (typeof out.init_image === "string" && !isUrl(out.init_image)) out.init_image = resolve(out.init_image);
  if (out.reservationFile !== undefined) out.reservationFile = resolve(out.reservationFile);
  const registry = out.registry as { images?: unknown; store?: unknown } | undefined;
  for (const key of ["images", "store"] as const) {
    const file = registry?.[key];
    if (typeof file === "string") out.registry = { ...(out.registry as object), [key]: resolve(file) };
  }
  // kolla-ansible's directory of custom service configuration: kolla-ansible reads it on this machine.
  const kolla = out.kolla as { node_custom_config?: unknown } | undefined;
  if (typeof kolla?.node_custom_config === "string" && !kolla.node_custom_config.includes("{{"))
    out.kolla = { ...kolla, node_custom_config: resolve(kolla.node_custom_config) };
  if (Array.isArray(out.patches)) {
    out.patches = out.patches.map((p) =>
      p && typeof p === "object" && typeof p.src === "string" && !p.src.includes("{{")
        ? { ...p, src: resolve(p.src) }
        : p,
    );
  }
  return out;
}

/** Reads an unchanged Enos reservation.yaml, as Enos read it (YAML 1.1, last duplicate key wins). */
export function readReservationFile(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = loadYaml11(fs.readFileSync(file, "utf8"), file);
  } catch (error) {
    throw new ConfigError([{ path: "reservationFile", message: `cannot read ${file}: ${(error as Error).message}` }]);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError([
      { path: "reservationFile", message: `${file} must be a YAML mapping, found ${describe(data)}` },
    ]);
  }
  return resolvePaths(data as Record<string, unknown>, path.dirname(path.resolve(file)));
}

export interface ConfigSource {
  /** `enos:` keys without their prefix, as set in the stack. */
  stack: Record<string, unknown>;
  /** Where relative paths set in the stack are relative to, and `{{ cwd }}`: the experiment directory. */
  baseDir: string;
}

/**
 * Merges the reservation file (if any) under the stack's keys, validates everything and returns the
 * experiment, or throws one ConfigError listing every problem.
 */
export function loadExperiment({ stack, baseDir }: ConfigSource): ExperimentConfig {
  const warnings: string[] = [];
  const fromStack = resolvePaths(stack, baseDir);
  let merged = fromStack;
  if (typeof fromStack.reservationFile === "string") {
    const fromFile = readReservationFile(fromStack.reservationFile);
    for (const key of Object.keys(fromFile).filter((k) => !TOP_LEVEL_KEYS.has(k))) {
      warnings.push(`${key}: ignored (not an experiment key; Enos files use such keys to hold YAML anchors)`);
      delete fromFile[key];
    }
    merged = { ...fromFile, ...fromStack };
  }
  delete merged.reservationFile;

  const parsed = experiment.safeParse(merged, { reportInput: true });
  const problems: ConfigProblem[] = parsed.success ? [] : problemsFrom(parsed.error.issues, [], KNOWN_KEYS);
  // Resources are checked against the provider even when other keys are wrong: all errors at once.
  const type = providerType(merged.provider);
  const { demands, staticHosts, groups } = type
    ? resourcesOf(type, merged.resources, merged.topology, problems)
    : { demands: [], staticHosts: [], groups: [] };
  if (!parsed.success) throw new ConfigError(problems);
  const input = parsed.data;
  const roles = new Set([...demands.map((d) => d.role), ...staticHosts.flatMap((h) => h.roles)]);
  // Missing roles are only worth reporting once the resources themselves are well formed.
  if (input.inventory === DEFAULT_INVENTORY && problems.length === 0) {
    const where = input.topology === undefined ? "resources" : "topology";
    for (const role of REQUIRED_ROLES.filter((r) => !roles.has(r))) {
      problems.push({
        path: `${where}.${role}`,
        message: `missing; the default inventory needs at least one host with role ${role}: add it under ${where}, or set inventory to your own file`,
      });
    }
  } else if (input.inventory && !fs.existsSync(input.inventory)) {
    problems.push({
      path: "inventory",
      message: `file ${input.inventory} does not exist; fix the path or remove the key to use the default inventory`,
    });
  }
  const archives = { images: "a docker save archive", store: "a tar of a registry's storage" };
  for (const [key, what] of Object.entries(archives) as [keyof typeof archives, string][]) {
    const file = input.registry.type === "internal" ? input.registry[key] : undefined;
    if (file && !fs.existsSync(file))
      problems.push({
        path: `registry.${key}`,
        message: `file ${file} does not exist; point it to ${what} (kolla/images/build --output DIR makes one)`,
      });
  }
  if (input.network_constraints?.enable) checkConstraintGroups(input.network_constraints, groups, problems);
  if ((input.kolla_ref !== undefined) !== (input.kolla_repo !== undefined) && input.kolla_ref !== undefined) {
    problems.push({ path: "kolla_ref", message: "set without kolla_repo; add kolla_repo (a git URL or file:// path)" });
  }
  if (input.init_image !== undefined && !isUrl(input.init_image) && !fs.existsSync(input.init_image)) {
    problems.push({
      path: "init_image",
      message: `file ${input.init_image} does not exist; point it to a cirros image or give an http(s) URL (kolla/images/build --output DIR makes a stand-in)`,
    });
  }
  if (input.workload !== undefined && !fs.existsSync(path.join(input.workload, "run.yml"))) {
    problems.push({
      path: "workload",
      message: `${input.workload}/run.yml does not exist; point workload to a directory holding run.yml`,
    });
  }
  // Namespace hosts share this machine's filesystem and Docker engine: no cloud can be deployed on them.
  const kollaMode = input.kolla_mode ?? (input.provider.type === "local" ? "check" : "deploy");
  const namespaceHosts = input.provider.type === "local" && input.provider.hosts === "namespace";
  if (namespaceHosts && kollaMode === "deploy") {
    problems.push({
      path: "kolla_mode",
      message:
        "deploy is impossible on namespace hosts (they share this machine's filesystem and Docker engine); use check, none for no OpenStack, or provider.hosts: machine",
    });
  }
  if (input.dev_cloud && (!namespaceHosts || kollaMode !== "check")) {
    problems.push({
      path: "dev_cloud",
      message:
        input.provider.type !== "local"
          ? `is for the local testbed only (this stack's provider is ${input.provider.type}, where Kolla deploys OpenStack); remove it`
          : !namespaceHosts
            ? "is for namespace hosts only (it runs in the control host's namespace); remove it or set provider.hosts: namespace"
            : `needs kolla_mode check (it stands in for the deploy check mode cannot do; found ${kollaMode}); set kolla_mode to check or dev_cloud to false`,
    });
  }
  if (
    kollaMode !== "none" &&
    input.kolla_repo === undefined &&
    input.kolla.openstack_release !== undefined &&
    !(String(input.kolla.openstack_release) in KOLLA_ANSIBLE_RELEASES)
  ) {
    problems.push({
      path: "kolla.openstack_release",
      message: `${String(input.kolla.openstack_release)} has no known kolla-ansible release (known: ${Object.keys(KOLLA_ANSIBLE_RELEASES).join(", ")}); pick one of those or set kolla_repo and kolla_ref`,
    });
  }
  problems.push(...unsafeNames(input.topology === undefined ? "resources" : "topology", roles, groups, staticHosts));
  if (problems.length) throw new ConfigError(problems);
  for (const role of new Set([...demands.map((d) => d.role), ...staticHosts.flatMap((h) => h.roles), ...groups])) {
    if (role === "true" || role === "false")
      warnings.push(booleanName(role, input.topology === undefined ? "resources" : "topology"));
  }

  // `provider: vagrant` is Enos' shorthand for a mapping of that type: its other keys are defaults.
  const written = typeof merged.provider === "string" ? { ...merged, provider: { type: merged.provider } } : merged;
  return {
    provider: input.provider,
    demands,
    staticHosts,
    groups,
    networkConstraints: input.network_constraints,
    kolla: input.kolla,
    kollaRepo: input.kolla_repo,
    kollaRef: input.kolla_ref,
    kollaMode,
    devCloud: input.dev_cloud,
    inventory: input.inventory === DEFAULT_INVENTORY ? undefined : input.inventory,
    patches: input.patches,
    registry: input.registry,
    enableMonitoring: input.enable_monitoring,
    workload: input.workload,
    initImage: input.init_image,
    benchRunId: input.bench_run_id === undefined ? undefined : String(input.bench_run_id),
    backupOnDestroy: input.backup_on_destroy,
    timeouts: input.timeouts,
    warnings,
    normalized: normalize(written, { ...input, kolla_mode: kollaMode }),
    cwd: baseDir,
  };
}

/** A role or group named by an unquoted yes/no/on/off key, which YAML 1.1 (Enos' PyYAML too) made a boolean. */
function booleanName(name: string, where: string): string {
  const { words, likely } = booleanSpellings(name === "true");
  return (
    `${where}: a role or group is named ${name}: YAML 1.1 (as Enos' PyYAML) reads an unquoted ${words} key as the boolean ${name}; ` +
    `if you meant the word, quote it (e.g. "${likely}": ...)`
  );
}

/**
 * Role and group names, and static hosts' aliases, name hosts in ssh_config `Host` lines, inventory
 * groups and shell words: letters, digits, `_` and `-`, starting with a letter.
 */
const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

function unsafeNames(
  where: string,
  roles: Set<string>,
  groups: string[],
  staticHosts: StaticHostDemand[],
): ConfigProblem[] {
  const problem = (path: string, what: string, value: string) => ({
    path,
    message: `${what} ${JSON.stringify(value)} is not a safe name (it goes into ssh_config Host lines and shell commands): use letters, digits, _ and -, starting with a letter`,
  });
  return [
    ...[...roles].filter((r) => !SAFE_NAME.test(r)).map((r) => problem(where, "role", r)),
    ...groups.filter((g) => !SAFE_NAME.test(g)).map((g) => problem(`topology.${g}`, "group", g)),
    ...staticHosts
      .filter((h) => h.alias !== undefined && !SAFE_NAME.test(h.alias))
      .map((h) => problem(where, "alias", h.alias!)),
  ];
}

function providerType(value: unknown): ProviderType | undefined {
  const type = typeof value === "string" ? value : (value as { type?: unknown } | undefined)?.type;
  return PROVIDER_TYPES.find((t) => t === type);
}

function rolesSchemaFor(type: ProviderType): z.ZodType {
  switch (type) {
    case "static":
      return staticRoles;
    case "local":
      return localRoles;
    case "vagrant":
      return vagrantRoles;
    default:
      return countedRoles;
  }
}

/** Validates resources/topology against the provider and flattens them to demands or static hosts. */
function resourcesOf(type: ProviderType, resources: unknown, topologyInput: unknown, problems: ConfigProblem[]) {
  const demands: RoleDemand[] = [];
  const byAddress = new Map<string, StaticHostDemand>();
  const groups: string[] = [];
  if ((resources === undefined) === (topologyInput === undefined)) {
    problems.push({
      path: resources === undefined ? "resources" : "topology",
      message:
        resources === undefined
          ? "missing; describe the hosts under resources (or under topology, to use network emulation)"
          : "resources and topology are both set; keep topology to emulate a network between groups, else resources",
    });
    return { demands, staticHosts: [], groups };
  }
  const schema = rolesSchemaFor(type);
  let sections: [string | undefined, unknown][] = [[undefined, resources]];
  if (topologyInput !== undefined) {
    const topology = z.record(z.string(), z.unknown()).safeParse(topologyInput, { reportInput: true });
    if (!topology.success) {
      problems.push(...problemsFrom(topology.error.issues, ["topology"], KNOWN_KEYS));
      return { demands, staticHosts: [], groups };
    }
    try {
      sections = Object.entries(expandKeys(topology.data));
    } catch (error) {
      problems.push({ path: "topology", message: (error as Error).message });
      return { demands, staticHosts: [], groups };
    }
  }
  for (const [group, section] of sections) {
    const where = group === undefined ? ["resources"] : ["topology", group];
    const parsed = schema.safeParse(section, { reportInput: true });
    if (!parsed.success) {
      problems.push(...problemsFrom(parsed.error.issues, where, KNOWN_KEYS));
      continue;
    }
    if (group !== undefined) groups.push(group);
    if (type === "static") {
      for (const [role, hosts] of Object.entries(parsed.data as z.output<typeof staticRoles>)) {
        for (const host of [hosts].flat()) {
          const known = byAddress.get(host.address) ?? { ...host, roles: [], groups: [] };
          if (!known.roles.includes(role)) known.roles.push(role);
          if (group !== undefined && !known.groups.includes(group)) known.groups.push(group);
          byAddress.set(host.address, known);
        }
      }
    } else {
      for (const [bucket, roles] of Object.entries(parsed.data as Record<string, number | Record<string, number>>)) {
        if (typeof roles === "number") demands.push({ group, bucket: "default", role: bucket, count: roles });
        else for (const [role, count] of Object.entries(roles)) demands.push({ group, bucket, role, count });
      }
    }
  }
  return { demands, staticHosts: [...byAddress.values()], groups };
}

/** src, dst and except must name groups of the topology (Enos' network_constraints). */
function checkConstraintGroups(nc: NetworkConstraintsConfig, groups: string[], problems: ConfigProblem[]) {
  if (groups.length === 0) {
    problems.push({
      path: "network_constraints",
      message: "needs groups: describe the hosts under topology instead of resources, or set enable: false",
    });
    return;
  }
  const check = (pattern: string, where: string) => {
    let names: string[];
    try {
      names = expandRange(pattern);
    } catch (error) {
      problems.push({ path: where, message: (error as Error).message });
      return;
    }
    const unknown = names.filter((n) => !groups.includes(n));
    if (unknown.length) {
      problems.push({
        path: where,
        message: `names group(s) ${unknown.join(", ")} that the topology does not define (it defines ${groups.join(", ")})`,
      });
    }
  };
  nc.constraints.forEach((c, i) => {
    check(c.src, `network_constraints.constraints[${i}].src`);
    check(c.dst, `network_constraints.constraints[${i}].dst`);
  });
  for (const [i, exception] of nc.except.entries()) check(exception, `network_constraints.except[${i}]`);
}
