import * as path from "node:path";
import { local, remote } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConstraintsConfig } from "../config/schema";
import type { Host } from "../config/types";
import type { Vips } from "../config/vips";
import { bashOnStdin, connectionOf, connectionProblem, precondition, remoteBash, replacedFirst } from "./commands";
import { addressesScript, shapedAddresses, withCurrentAddresses } from "./tc/addresses";
import { fpingCommand, type MeasureRequest, parseFping, samplePairs } from "./tc/measure";
import {
  accurateRules,
  type BaseRttSample,
  baseRtts,
  type HostPlan,
  needsNetem,
  planGroupRules,
  planHostRules,
} from "./tc/plan";
import { classProblems, renderApplyScript, renderResetScript } from "./tc/render";

export interface NetworkEmulationArgs {
  hosts: pulumi.Input<Host[]>;
  /** Host aliases, known before the hosts exist: one command per host. */
  aliases: string[];
  groups: string[];
  constraints: NetworkConstraintsConfig;
  /** The experiment's ssh_config (every host reachable by alias). */
  sshConfig: pulumi.Input<string>;
  stack: string;
  /** results/<stack>/tc: where the measured report goes when `network_constraints.test` is on. */
  reportDir: string;
  /** The testbed's VIPs, named as such in the report's shaped addresses. */
  vips?: pulumi.Input<Vips>;
}

/** Every host whose kernel lacks a qdisc the plan needs, as one message; nothing when all can. */
export function kernelProblems(hosts: Host[], plans: HostPlan[]): string | undefined {
  const missing = plans.flatMap((plan) => {
    const host = hosts.find((candidate) => candidate.alias === plan.alias)!;
    const lacks = [
      ...(plan.rules.length > 0 && !host.kernel.htb ? ["sch_htb (htb: rates)"] : []),
      ...(plan.rules.some(needsNetem) && !host.kernel.netem ? ["sch_netem (netem: delay and loss)"] : []),
    ];
    return lacks.map((module) => `  - ${plan.alias} lacks ${module}`);
  });
  return missing.length
    ? `network emulation needs kernel support that these hosts do not have; no host was changed:\n${missing.join("\n")}`
    : undefined;
}

/**
 * Destinations the testbed knows no IPv4 address of (e.g. a host whose probed interfaces hold
 * none): their rules would match no packet, and the emulation would silently not be there.
 */
export function addressProblems(plans: HostPlan[]): string | undefined {
  const unknown = [
    ...new Set(plans.flatMap((plan) => plan.rules.filter((rule) => rule.ips.length === 0).map((rule) => rule.dst))),
  ];
  return unknown.length
    ? `network emulation cannot shape traffic to hosts whose addresses the testbed does not know; no host was changed:\n${unknown.map((dst) => `  - ${dst} has no known IPv4 address`).join("\n")}`
    : undefined;
}

const BASE_RTT_PROBES = 100;

/**
 * Resets every host's interfaces, then pings between a sample host of each ordered group pair. A reset
 * that fails (or a host that cannot be reached) stops it before any ping, naming the host and showing
 * its output: the old rules may still be there, and would be measured as the base RTT.
 */
function baseRttScript(hosts: Host[], sshConfig: string): string {
  const pairs = samplePairs(hosts);
  return [
    "dir=$(mktemp -d); trap 'rm -rf \"$dir\"' EXIT",
    ...hosts.map(
      (host, i) =>
        `ssh -F '${sshConfig}' '${host.alias}' bash -s > "$dir/reset-${i}" 2>&1 <<'RESET' &\n` +
        `${renderResetScript(host)}RESET\nreset[${i}]=$!`,
    ),
    "failed=0",
    ...hosts.map(
      (host, i) =>
        `wait "\${reset[${i}]}" || { echo "base RTT: resetting the tc rules of ${host.alias} failed ` +
        '(exit $?): its rules may still be there, so nothing was measured; its output:" >&2; ' +
        `sed 's/^/  /' "$dir/reset-${i}" >&2; failed=1; }`,
    ),
    '[ "$failed" = 0 ] || exit 1',
    ...pairs.map(
      ({ from, to }, i) =>
        `ssh -F '${sshConfig}' '${from.alias}' '${fpingCommand(to.address, BASE_RTT_PROBES)}' > "$dir/${i}" 2>&1 &`,
    ),
    "wait",
    ...pairs.map((_, i) => `echo "@@FPING ${i}"; cat "$dir/${i}"`),
    "",
  ].join("\n");
}

/** Each pair's base-RTT sample, from baseRttScript's output. */
export function baseRttSamples(hosts: Host[], output: string): BaseRttSample[] {
  return samplePairs(hosts).map(({ src, dst, from, to }, i) => {
    const said = output.split(`@@FPING ${i}\n`)[1]?.split("\n@@FPING ")[0] ?? "";
    return {
      src,
      dst,
      from: from.alias,
      to: to.alias,
      probes: BASE_RTT_PROBES,
      rttsMs: parseFping(said),
      output: said,
    };
  });
}

/**
 * Applies the tc plan on every host, one SSH session each, all in parallel, once every host's kernel
 * (as probed by the testbed) is known to do what the plan needs; deleting it (or `enable: false`)
 * restores each interface's default qdisc. A host's command changes only when its own rules do, so a
 * changed constraint re-runs only those hosts.
 */
export class NetworkEmulation extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:NetworkEmulation";
  public readonly plan: pulumi.Output<HostPlan[]>;

  constructor(name: string, args: NetworkEmulationArgs, opts?: pulumi.ComponentResourceOptions) {
    super(NetworkEmulation.__pulumiType, name, {}, opts);
    const groupRules = planGroupRules(args.groups, args.constraints);
    const hosts = pulumi.output(args.hosts);
    const sshConfig = pulumi.output(args.sshConfig);
    let appliedRules = pulumi.output(groupRules);
    const checks: pulumi.Resource[] = [];
    let baseRtt: local.Command | undefined;
    if (args.constraints.accurate && groupRules.length > 0) {
      // Measured on bare interfaces, when the phase is created or the hosts change; the hosts' rules
      // are then all re-applied (their triggers carry the measurement).
      baseRtt = new local.Command(
        `${name}-base-rtt`,
        {
          ...bashOnStdin(pulumi.all([hosts, sshConfig]).apply(([hostList, config]) => baseRttScript(hostList, config))),
          triggers: [hosts.apply((hostList) => JSON.stringify(hostList.map((host) => [host.alias, host.ips])))],
        },
        replacedFirst({ parent: this }),
      );
      const adjusted = pulumi.all([hosts, baseRtt.stdout]).apply(([hostList, output]) => {
        const base = baseRtts(baseRttSamples(hostList, output));
        const { rules, problems } = accurateRules(groupRules, base.rttMs);
        return { rules, problems: [...base.problems, ...problems] };
      });
      checks.push(
        precondition(
          `${name}-accuracy-check`,
          adjusted.apply(({ problems }) =>
            problems.length ? `accurate mode is impossible for:\n  - ${problems.join("\n  - ")}` : "",
          ),
          { parent: this },
        ),
      );
      appliedRules = adjusted.apply(({ rules }) => rules);
    }
    // Read when the phase is made (after the OpenStack phases) or the hosts change: the VIPs are then held.
    const addresses = new local.Command(
      `${name}-host-addresses`,
      {
        ...bashOnStdin(pulumi.all([hosts, sshConfig]).apply(([hostList, config]) => addressesScript(hostList, config))),
        triggers: [hosts.apply((hostList) => JSON.stringify(hostList.map((host) => [host.alias, host.ips])))],
      },
      replacedFirst({ parent: this }),
    );
    const current = pulumi
      .all([hosts, addresses.stdout])
      .apply(([hostList, output]) => withCurrentAddresses(hostList, output));
    this.plan = pulumi.all([current, appliedRules]).apply(([hostList, rules]) => planHostRules(hostList, rules));
    checks.push(
      precondition(
        `${name}-kernel-check`,
        pulumi
          .all([hosts, this.plan])
          .apply(([hostList, plans]) =>
            [
              kernelProblems(hostList, plans),
              addressProblems(plans),
              classProblems(plans),
              ...hostList.map(connectionProblem),
            ]
              .filter(Boolean)
              .join("\n"),
          ),
        { parent: this },
      ),
    );

    const applied = args.aliases.map((alias) => {
      const hostPlan = this.plan.apply((plans) => plans.find((plan) => plan.alias === alias)!);
      return new remote.Command(
        `${name}-${alias}`,
        {
          ...bashOnStdin(hostPlan.apply(renderApplyScript)),
          delete: hostPlan.apply((plan) => remoteBash(renderResetScript(plan))),
          connection: hosts.apply((hostList) => connectionOf(hostList.find((host) => host.alias === alias)!)),
          triggers: baseRtt ? [baseRtt.stdout] : undefined,
        },
        replacedFirst({ parent: this, dependsOn: checks }),
      );
    });

    if (args.constraints.test && args.constraints.enable) {
      // Re-measured whenever the plan changes; fails the update if the wire does not do what was asked.
      const request = pulumi.all([hosts, sshConfig, this.plan, args.vips]).apply(([hostList, config, plans, vips]) =>
        JSON.stringify({
          stack: args.stack,
          hosts: hostList,
          groupRules,
          sshConfig: config,
          outDir: args.reportDir,
          shaped: shapedAddresses(plans, vips),
        } satisfies MeasureRequest),
      );
      new local.Command(
        `${name}-test`,
        {
          create: `node ${path.join(__dirname, "tc", "measure.js")} -`,
          update: `node ${path.join(__dirname, "tc", "measure.js")} -`,
          stdin: request,
          triggers: [this.plan.apply((plans) => JSON.stringify(plans))],
        },
        replacedFirst({ parent: this, dependsOn: applied }),
      );
    }
    this.registerOutputs({ plan: this.plan });
  }
}
