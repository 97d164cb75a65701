import * as pulumi from "@pulumi/pulumi";
import { loadExperiment, readsAsText } from "../config/load";
import { resultsDirOf } from "../config/paths";
import { Experiment } from "./experiment";

export interface ProgramOptions {
  /** The experiment directory (the project, or Pulumi.yaml's): stack config's relative paths, `{{ cwd }}`, results. */
  projectDir: string;
  /** The project's state directory (.pulumi-state): keys and generated files go under <stateDir>/<stack>. */
  stateDir: string;
}

/**
 * `enos:` keys as the engine hands them over (text), each read with its schema's type through
 * Pulumi's Config API: a key whose schema takes the text as it is gets the string (`bench_run_id:
 * "007"`, a password starting with `{`); a structured one (mappings, lists) is read as JSON.
 */
export function stackConfig(): Record<string, unknown> {
  const config = new pulumi.Config("enos");
  const stack: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith("enos:")) continue;
    const key = fullKey.slice("enos:".length);
    stack[key] = readsAsText(key, text) ? config.get(key) : config.getObject(key);
  }
  return stack;
}

/** The experiment's resource name: a stack has one, the parent of all its resources. */
export const EXPERIMENT = "experiment";

/** The Pulumi program: validated config -> Experiment -> outputs that tell the user what to do next. */
export function experimentProgram(options: ProgramOptions) {
  return async () => {
    const stack = pulumi.getStack();
    const config = loadExperiment({ stack: stackConfig(), baseDir: options.projectDir });
    for (const warning of config.warnings) pulumi.log.warn(warning);
    const resultsDir = resultsDirOf(options.projectDir, stack);
    const experiment = new Experiment(EXPERIMENT, { config, stack, stateDir: options.stateDir, resultsDir });
    // What fits on a screen at the end of `pulumi up`; the full records (every host's roles, groups,
    // interfaces, the tc plan, kolla's check) are in the state: `enos info --json` prints them.
    return {
      provider: config.provider.type,
      hosts: experiment.hosts.apply((hosts) => Object.fromEntries(hosts.map((host) => [host.alias, host.address]))),
      // Grid'5000 jobs, a Blazar lease: which, and whether each was reused (found open by its name).
      ...(experiment.reservations ? { reservations: experiment.reservations } : {}),
      // Only what this stack has: an undefined output is a warning of the engine's.
      ...(experiment.kolla
        ? {
            kolla: {
              mode: config.kollaMode,
              vip: experiment.kolla.vip,
              horizonUrl: experiment.kolla.horizonUrl,
              ...(experiment.kolla.adminOpenrc ? { adminOpenrc: experiment.kolla.adminOpenrc } : {}),
            },
          }
        : {}),
      // Debian's OpenStack standing in for a deploy (enos:dev_cloud): where its admin-openrc is.
      ...(experiment.devCloud ? { devCloud: { adminOpenrc: experiment.devCloud.adminOpenrc } } : {}),
      // "smoke check passed: ...", the last word of init (a failed one fails the update instead).
      ...(experiment.init?.smokeCheck ? { smokeCheck: experiment.init.smokeCheck } : {}),
      ...(experiment.monitoring?.grafanaUrl ? { grafanaUrl: experiment.monitoring.grafanaUrl } : {}),
      ...(experiment.benchmark ? { benchmarkSummary: experiment.benchmark.summary } : {}),
      sshConfig: experiment.sshConfig,
      resultsDir,
      next: {
        ssh: pulumi.interpolate`ssh -F ${experiment.sshConfig} <alias>`,
        info: `npx enos info --stack ${stack}   # every host's roles and groups, what to look at`,
        ...(experiment.devCloud
          ? {
              openstack: pulumi.interpolate`. ${experiment.devCloud.adminOpenrc} && .venv/bin/openstack server list   # the dev cloud's APIs`,
            }
          : {}),
        destroy: `pulumi destroy --stack ${stack}   # releases it all`,
      },
    };
  };
}
