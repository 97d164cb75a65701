import * as fs from "node:fs";
import * as path from "node:path";
import { planGroupRules, planHostRules } from "../../components/tc/plan";
import type { Host } from "../../config/types";
import { cleanUp, recordOf, testExperiment } from "../support/harness";

export interface TcBenchRow {
  hosts: number;
  groups: number;
  hostRules: number;
  planMs: number;
  applySeconds: number;
  sshSessionsPerHost: number[];
}

/** SSH sessions each host's sshd accepted so far (the local testbed's sshd logs to sshd.log). */
function sessions(hostsDir: string, aliases: string[]): number[] {
  return aliases.map(
    (a) => (fs.readFileSync(path.join(hostsDir, a, "sshd.log"), "utf8").match(/Accepted publickey/g) ?? []).length,
  );
}

/** Plan and apply all-pairs rate constraints on 16 local hosts in 8 groups. */
export async function benchTc(): Promise<TcBenchRow> {
  const name = `bench${process.pid}tc`;
  const provider = { type: "local", api_cidr: "10.253.0.0/24", external_cidr: "10.254.0.0/24" };
  const topology = { grp1: { default: { control: 1, network: 1 } }, "grp[2-8]": { default: { compute: 2 } } };
  const constraints = {
    default_delay: "0ms",
    default_rate: "100mbit",
    default_loss: "0%",
    constraints: [{ src: "grp1", dst: "grp[2-8]", rate: "1gbit", symetric: true }],
  };
  const experiment = await testExperiment(name, { provider, topology });
  try {
    await experiment.stack.up({ parallel: 64 });
    const hosts: Host[] = (await recordOf(experiment.stack)).hosts;
    const aliases = hosts.map((h) => h.alias);
    const hostsDir = path.join(experiment.stateDir, name, "local", "hosts");

    const groups = [...new Set(hosts.flatMap((h) => h.groups))];
    const nc = { enable: true, except: [], ...constraints };
    const start = performance.now();
    const plans = planHostRules(hosts, planGroupRules(groups, nc));
    const planMs = performance.now() - start;

    const before = sessions(hostsDir, aliases);
    await experiment.setConfig({ provider, topology, network_constraints: constraints });
    const applyStart = performance.now();
    await experiment.stack.up({ parallel: 64 });
    const applySeconds = (performance.now() - applyStart) / 1000;
    const after = sessions(hostsDir, aliases);
    return {
      hosts: hosts.length,
      groups: groups.length,
      hostRules: plans.reduce((n, p) => n + p.rules.length, 0),
      planMs,
      applySeconds,
      sshSessionsPerHost: after.map((n, i) => n - before[i]),
    };
  } finally {
    await cleanUp(experiment);
  }
}
