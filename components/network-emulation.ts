import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConstraintsConfig } from "../config/schema";
import type { Host } from "../config/types";
import { Command } from "./command";
import { HostPlan, needsNetem, planGroupRules, planHostRules } from "./tc/plan";
import { renderApplyScript, renderKernelCheck, renderResetScript } from "./tc/render";

export interface NetworkEmulationArgs {
  hosts: pulumi.Input<Host[]>;
  /** Host aliases, known before the hosts exist: one command per host. */
  aliases: string[];
  groups: string[];
  constraints: NetworkConstraintsConfig;
  /** The experiment's ssh_config (every host reachable by alias). */
  sshConfig: pulumi.Input<string>;
}

const sha = (text: string) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);

/** A local script checking every host's kernel in parallel; one error lists every host lacking a qdisc. */
function kernelCheckScript(aliases: string[], sshConfig: string, netem: boolean): string {
  const check = renderKernelCheck({ netem });
  return [
    "dir=$(mktemp -d); trap 'rm -rf \"$dir\"' EXIT",
    ...aliases.map((a) => `ssh -F '${sshConfig}' '${a}' bash -s > "$dir/${a}" 2>&1 <<'CHECK' &\n${check}CHECK`),
    "wait",
    `missing=$(cd "$dir" && grep -H '^missing ' * | sed 's/:missing / lacks /' || true)`,
    'if [ -n "$missing" ]; then',
    '  echo "network emulation needs kernel support that these hosts do not have; no host was changed:" >&2',
    '  echo "$missing" | sed "s/^/  - /; s/sch_netem$/sch_netem (netem: delay and loss)/; s/sch_htb$/sch_htb (htb: rates)/" >&2',
    "  exit 1",
    "fi",
    "",
  ].join("\n");
}

/**
 * Applies the tc plan on every host, one SSH session each, all in parallel, after a kernel check of
 * every host; deleting it (or `enable: false`) restores each interface's default qdisc. A host's
 * command changes only when its own rules do, so a changed constraint re-runs only those hosts.
 */
export class NetworkEmulation extends pulumi.ComponentResource {
  public readonly plan: pulumi.Output<HostPlan[]>;

  constructor(name: string, args: NetworkEmulationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("enos:phases:NetworkEmulation", name, {}, opts);
    const groupRules = planGroupRules(args.groups, args.constraints);
    this.plan = pulumi.output(args.hosts).apply((hosts) => planHostRules(hosts, groupRules));
    const netem = groupRules.some(needsNetem);

    const check = new Command("kernel-check", {
      create: pulumi.output(args.sshConfig).apply((cfg) => kernelCheckScript(args.aliases, cfg, netem)),
      triggers: [sha(JSON.stringify(groupRules))],
    }, { parent: this });

    for (const alias of args.aliases) {
      const hostPlan = this.plan.apply((plans) => plans.find((p) => p.alias === alias)!);
      const apply = hostPlan.apply(renderApplyScript);
      new Command(`tc-${alias}`, {
        create: apply,
        update: apply,
        delete: hostPlan.apply(renderResetScript),
        connection: pulumi.output(args.sshConfig).apply((sshConfig) => ({ sshConfig, alias })),
      }, { parent: this, dependsOn: [check] });
    }
    this.registerOutputs({ plan: this.plan });
  }
}
