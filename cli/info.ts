import { type Command, Option } from "commander";
import * as yaml from "js-yaml";
import { exitWith, type GlobalOptions, stackName } from "./context";
import { type ExperimentRecord, experimentRecord, openExperiment } from "./workspace";

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
  const kolla = value<{ mode: string; vip: string; horizonUrl?: string; adminOpenrc?: string }>("kolla");
  const lines = [
    `stack ${stack}: ${value<string>("provider")} testbed, ${hosts.length} hosts`,
    ...pad([
      ["alias", "address", "roles", "groups"],
      ...hosts.map((h) => [h.alias, h.address, h.roles.join(","), h.groups.join(",") || "-"]),
    ]),
    "",
    `ssh:        ssh -F ${sshConfig} <alias>`,
  ];
  if (kolla?.mode === "check") {
    lines.push(
      "openstack:  none (kolla_mode: check); a deploy would apply:",
      ...Object.entries(record.kollaPlan ?? {}).map(([host, roles]) => `              ${host}: ${roles.join(", ")}`),
    );
  } else if (kolla) {
    lines.push(
      `openstack:  VIP ${kolla.vip}, ${kolla.horizonUrl ? `Horizon ${kolla.horizonUrl}` : "no Horizon (enable_horizon: no)"}`,
      `            . ${kolla.adminOpenrc}   # then: openstack server list`,
    );
  }
  const results = value<string>("resultsDir");
  if (tcPlan)
    lines.push(
      `network:    emulated on ${tcPlan.length} hosts; measure: npx enos tc --test --stack ${stack} (report: ${results}/tc/report.md)`,
    );
  const summary = value<string>("benchmarkSummary");
  if (summary) lines.push(`benchmarks: ${summary}`);
  const grafana = value<string>("grafanaUrl");
  if (grafana) lines.push(`grafana:    ${grafana}`);
  lines.push(`results:    ${results}`);
  return `${lines.join("\n")}\n`;
}

export function register(program: Command) {
  program
    .command("info")
    .description("hosts with their roles and groups, URLs, files and next steps")
    .addOption(
      new Option("--out <format>", "print every record (outputs, hosts, network, tc plan) for tools").choices([
        "json",
        "yaml",
      ]),
    )
    .action(
      exitWith(async (options: { out?: "json" | "yaml" }, command: Command) => {
        const name = stackName(command.optsWithGlobals<GlobalOptions>());
        const stack = await openExperiment(name);
        const [outputs, record] = [await stack.outputs(), await experimentRecord(stack)];
        if (!record) {
          console.log(`stack ${name} holds nothing: run enos deploy --stack ${name}`);
          return 0;
        }
        if (!options.out) {
          process.stdout.write(describeStack(name, outputs, record));
          return 0;
        }
        const shown = {
          ...Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value])),
          ...record,
        };
        console.log(options.out === "json" ? JSON.stringify(shown, null, 2) : yaml.dump(shown, { lineWidth: -1 }));
        return 0;
      }),
    );
}
