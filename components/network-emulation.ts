import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConstraintsConfig } from "../config/schema";
import type { Host } from "../config/types";
import { Command } from "./command";
import { Precondition } from "./precondition";
import { HostPlan, needsNetem, planGroupRules, planHostRules } from "./tc/plan";
import type { MeasureRequest } from "./tc/measure";
import { renderApplyScript, renderResetScript } from "./tc/render";

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
}

/** Every host whose kernel lacks a qdisc the plan needs, as one message; nothing when all can. */
export function kernelProblems(hosts: Host[], plans: HostPlan[]): string | undefined {
  const missing = plans.flatMap((plan) => {
    const host = hosts.find((h) => h.alias === plan.alias)!;
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
 * Applies the tc plan on every host, one SSH session each, all in parallel, once every host's kernel
 * (as probed by the testbed) is known to do what the plan needs; deleting it (or `enable: false`)
 * restores each interface's default qdisc. A host's command changes only when its own rules do, so a
 * changed constraint re-runs only those hosts.
 */
export class NetworkEmulation extends pulumi.ComponentResource {
  public readonly plan: pulumi.Output<HostPlan[]>;

  constructor(name: string, args: NetworkEmulationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("enos:phases:NetworkEmulation", name, {}, opts);
    const groupRules = planGroupRules(args.groups, args.constraints);
    const hosts = pulumi.output(args.hosts);
    this.plan = hosts.apply((hs) => planHostRules(hs, groupRules));
    const kernelCheck = new Precondition("kernel-check", {
      problem: pulumi.all([hosts, this.plan]).apply(([hs, plans]) => kernelProblems(hs, plans) ?? ""),
    }, { parent: this });

    const applied = args.aliases.map((alias) => {
      const hostPlan = this.plan.apply((plans) => plans.find((p) => p.alias === alias)!);
      const apply = hostPlan.apply(renderApplyScript);
      return new Command(`tc-${alias}`, {
        create: apply,
        update: apply,
        delete: hostPlan.apply(renderResetScript),
        connection: pulumi.output(args.sshConfig).apply((sshConfig) => ({ sshConfig, alias })),
      }, { parent: this, dependsOn: [kernelCheck] });
    });

    if (args.constraints.test && args.constraints.enable) {
      // Re-measured whenever the plan changes; fails the update if the wire does not do what was asked.
      const request = pulumi.all([hosts, args.sshConfig]).apply(([hs, sshConfig]) => JSON.stringify(
        { stack: args.stack, hosts: hs, groupRules, sshConfig, outDir: args.reportDir } satisfies MeasureRequest));
      new Command("tc-test", {
        create: pulumi.interpolate`node ${path.join(__dirname, "tc", "measure.js")} /dev/stdin <<'JSON'\n${request}\nJSON`,
        triggers: [this.plan.apply((p) => JSON.stringify(p))],
      }, { parent: this, dependsOn: applied });
    }
    this.registerOutputs({ plan: this.plan });
  }
}
