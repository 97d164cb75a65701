import type { ExperimentRecord } from "./workspace";

/** A stack's outputs as the engine hands them over. */
export type Outputs = Record<string, { value: unknown; secret: boolean }>;

const pad = (rows: string[][]) => {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join("  ")}`.trimEnd());
};

/** What `enos info` prints: the hosts with their roles and groups, where things are, what to do next. */
export function describeStack(stack: string, outputs: Outputs, record: ExperimentRecord): string {
  const value = <T>(key: string) => outputs[key]?.value as T | undefined;
  const { hosts, sshConfig, tcPlan } = record;
  const kolla = value<{ mode: string; vip: string; horizonUrl: string; adminOpenrc?: string }>("kolla");
  const lines = [
    `stack ${stack}: ${value<string>("provider")} testbed, ${hosts.length} hosts`,
    ...pad([["alias", "address", "roles", "groups"], ...hosts.map((h) => [h.alias, h.address, h.roles.join(","), h.groups.join(",") || "-"])]),
    "",
    `ssh:        ssh -F ${sshConfig} <alias>`,
  ];
  if (kolla?.mode === "check") {
    lines.push("openstack:  none (kolla_mode: check); a deploy would apply:",
      ...Object.entries(record.kollaPlan ?? {}).map(([host, roles]) => `              ${host}: ${roles.join(", ")}`));
  } else if (kolla) {
    lines.push(`openstack:  VIP ${kolla.vip}, Horizon ${kolla.horizonUrl}`, `            . ${kolla.adminOpenrc}   # then: openstack server list`);
  }
  const results = value<string>("resultsDir");
  if (tcPlan) lines.push(`network:    emulated on ${tcPlan.length} hosts; measure: npx enos tc --test --stack ${stack} (report: ${results}/tc/report.md)`);
  const summary = value<string>("benchmarkSummary");
  if (summary) lines.push(`benchmarks: ${summary}`);
  const grafana = value<string>("grafanaUrl");
  if (grafana) lines.push(`grafana:    ${grafana}`);
  lines.push(`results:    ${results}`);
  return `${lines.join("\n")}\n`;
}
