import { Backup } from "../components/backup";
import { Benchmark } from "../components/benchmark";
import { DevCloud } from "../components/dev-cloud";
import { Experiment } from "../components/experiment";
import { KollaDeployment } from "../components/kolla";
import { Monitoring } from "../components/monitoring";
import { NetworkEmulation } from "../components/network-emulation";
import { OpenStackInit } from "../components/openstack-init";
import { EXPERIMENT } from "../components/program";
import { TESTBED_MODULE } from "../providers/testbed";

/** A component and everything under it (its type token is in their URNs). */
const component = (type: { __pulumiType: string }) => `**${type.__pulumiType}**`;

/**
 * Enos' verbs as targeted updates: each updates its phase and the phases it needs, and leaves the
 * others as they are. Targets are URN patterns of the phases' components and everything under them.
 */
const PHASES = {
  testbed: [`**${TESTBED_MODULE}:**`, "**::known-hosts", "**::ssh-config"],
  monitoring: [component(Monitoring)],
  // The dev cloud stands in for the deploy on the local testbed (enos:dev_cloud): it is `os` too.
  os: [component(KollaDeployment), component(DevCloud)],
  init: [component(OpenStackInit)],
  bench: [component(Benchmark)],
  tc: [component(NetworkEmulation)],
} as const;
export type Phase = keyof typeof PHASES;

/**
 * Reservations (a Grid'5000 job, a Blazar lease) outlive --force-deploy: as in Enos, it installs the
 * nodes of the same job or lease again, and the researcher keeps the slot the testbed gave.
 */
export const RESERVATIONS = ["**/enos:OarJob::**", "**/enos:BlazarLease::**"];
/**
 * Nor are the stack's SSH key pair and the SSH probe replaced: they are not machines, and each owns a
 * file (the key, the learnt host keys) that a replacement would write before the old one's delete
 * removed it. The probe follows its hosts: an update learns a redeployed node's new host key.
 */
export const KEPT_ON_REPLACE = [...RESERVATIONS, "**/enos:SshKeyPair::**", "**/enos:StaticHostsProbe::**"];
export const ALL_PHASES = Object.keys(PHASES) as Phase[];

/** What each verb brings up: its phase and what that phase consumes. */
const VERB_PHASES = {
  up: ["testbed"],
  os: ["testbed", "monitoring", "os"],
  init: ["testbed", "monitoring", "os", "init"],
  // Benchmarks run under the emulated network, once it is measured (the graph orders them so).
  bench: ["testbed", "monitoring", "os", "init", "tc", "bench"],
  tc: ["testbed", "tc"],
} as const satisfies Record<string, readonly Phase[]>;

const urns = (patterns: readonly string[], stack: string) =>
  patterns.map((pattern) => `urn:pulumi:${stack}::enos::${pattern}`);

/** The --target patterns of one phase's resources on a stack. */
export const phaseTargets = (phase: Phase, stack: string): string[] => urns(PHASES[phase], stack);

/**
 * What `enos destroy` (without --hard) deletes: every phase, and backup_on_destroy's command, which
 * depends on phases (only deploy makes it: no verb's phase); the testbed stays.
 */
export const phasesTargets = (stack: string): string[] =>
  urns([...ALL_PHASES.filter((p) => p !== "testbed").flatMap((p) => PHASES[p]), component(Backup)], stack);

/**
 * What `enos tc --reset` deletes: the rules, and the benchmarks that ran under them (they depend on
 * the rules); backup_on_destroy's command stays armed (it does not depend on them: its delete is a backup).
 */
export const tcResetTargets = (stack: string): string[] => [
  ...phaseTargets("tc", stack),
  ...phaseTargets("bench", stack),
];

/** The --target patterns of a verb's update on a stack. */
export function targetsOf(verb: keyof typeof VERB_PHASES, stack: string): string[] {
  // The experiment component parents every phase: a target's parents must be targets too.
  return urns(
    [`${Experiment.__pulumiType}::${EXPERIMENT}`, ...VERB_PHASES[verb].flatMap((phase) => PHASES[phase])],
    stack,
  );
}
