/**
 * The summary of Rally results: one row per Rally workload of each run, from the JSON report that
 * `rally task report --json` writes (format_version 1.2). Durations are those of Rally's "duration"
 * row: every iteration's duration (failed ones included, idle time excluded), percentiles
 * interpolated linearly as Rally does, so that the numbers match its HTML report.
 */

import * as path from "node:path";
import type { Stamp } from "../components/bench/stamp";

/** The parts of Rally's JSON report the summary reads. */
export interface RallyReport {
  tasks: {
    status: string;
    subtasks: {
      workloads: {
        scenario: Record<string, unknown>;
        total_iteration_count: number;
        failed_iteration_count: number;
        pass_sla: boolean;
        sla_results: { sla?: { criterion: string; success: boolean; detail: string }[] };
        data: { duration: number; error: unknown[] }[];
      }[];
    }[];
  }[];
}

/** Which run a row is of: its record, and whether it is its entry's latest (the workload as it is). */
export interface RunOf {
  stamp: Stamp;
  current: boolean;
}

export interface SummaryRow extends Partial<RunOf> {
  scenario: string;
  args: Record<string, unknown>;
  /** Where the run's reports are, relative to results/<stack>. */
  dir: string;
  /** The Rally scenario plugin, e.g. Dummy.dummy. */
  workload: string;
  iterations: number;
  failed: number;
  /** Iterations without error / iterations; null when none ran. */
  successRate: number | null;
  /** Seconds; null when no iteration ran. */
  duration: { min: number; median: number; p95: number; max: number } | null;
  sla: { passed: boolean; failures: string[] };
}

/** Rally's percentile: linear interpolation between the closest ranks of the sorted points. */
export function percentile(sorted: number[], fraction: number): number {
  const k = (sorted.length - 1) * fraction;
  const [f, c] = [Math.floor(k), Math.ceil(k)];
  return f === c ? sorted[k] : sorted[f] * (c - k) + sorted[c] * (k - f);
}

/** The rows of one run: one per workload of its task. */
export function summarizeRun(
  run: { scenario: string; args: Record<string, unknown>; dir: string },
  report: RallyReport,
  of?: RunOf,
): SummaryRow[] {
  return report.tasks.flatMap((task) =>
    task.subtasks.flatMap((subtask) =>
      subtask.workloads.map((w): SummaryRow => {
        const durations = w.data.map((i) => i.duration).sort((a, b) => a - b);
        return {
          ...run,
          ...of,
          workload: Object.keys(w.scenario)[0],
          iterations: w.total_iteration_count,
          failed: w.failed_iteration_count,
          successRate: w.total_iteration_count
            ? (w.total_iteration_count - w.failed_iteration_count) / w.total_iteration_count
            : null,
          duration: durations.length
            ? {
                min: durations[0],
                median: percentile(durations, 0.5),
                p95: percentile(durations, 0.95),
                max: durations[durations.length - 1],
              }
            : null,
          sla: {
            passed: w.pass_sla,
            failures: (w.sla_results.sla ?? []).filter((s) => !s.success).map((s) => s.detail),
          },
        };
      }),
    ),
  );
}

const seconds = (v: number | undefined) => (v === undefined ? "n/a" : v.toFixed(3));
const cell = (text: string) => text.replace(/\|/g, "\\|");

/** What a run ran under, in a line: OpenStack, the configuration's and globals.yml's hashes, the network. */
function conditionsOf(stamp: Stamp): string {
  const short = (hash: string) => hash.slice(0, 12);
  const os = stamp.openstack;
  const openstack = os
    ? `${os.source} ${os.release ?? "(release unknown)"}, globals.yml ${short(os.globalsSha256)}`
    : "no OpenStack";
  const tc = stamp.network;
  const network = tc
    ? `tc plan ${short(tc.plan)}, ${tc.report ? `measured: \`${tc.report}\`` : "not measured"}`
    : "no network emulation";
  return `${openstack}; configuration ${short(stamp.configuration)}; ${network}`;
}

/** The summary as a markdown table, every run's conditions, and the runs that left no results. */
export function renderSummaryMarkdown(rows: SummaryRow[], failed: string[] = []): string {
  const header =
    "| scenario | args | run | workload | iterations | success | min (s) | median (s) | p95 (s) | max (s) | SLA |\n" +
    "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  const runName = (r: SummaryRow) => (r.stamp ? `${path.basename(r.dir)}${r.current ? " (current)" : ""}` : "-");
  const lines = rows.map(
    (r) =>
      "| " +
      [
        cell(r.scenario),
        cell(
          Object.entries(r.args)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(" ") || "-",
        ),
        cell(runName(r)),
        cell(r.workload),
        String(r.iterations),
        r.successRate === null ? "n/a" : `${(r.successRate * 100).toFixed(1)}%`,
        seconds(r.duration?.min),
        seconds(r.duration?.median),
        seconds(r.duration?.p95),
        seconds(r.duration?.max),
        r.sla.passed ? "passed" : cell(`failed: ${r.sla.failures.join("; ")}`),
      ].join(" | ") +
      " |",
  );
  const unique = (list: string[]) => list.filter((l, i) => list.indexOf(l) === i);
  const runs = unique(
    rows.map(
      (r) => `- ${cell(r.scenario)} (${r.workload}): \`${r.dir}\`${r.stamp ? ` — ${cell(conditionsOf(r.stamp))}` : ""}`,
    ),
  );
  return (
    `# Rally summary\n\n${header}${lines.join("\n")}\n\n` +
    "Runs: `<dir>/report.html`, `<dir>/results.json` and what it ran under, `<dir>/stamp.json`:\n\n" +
    `${runs.join("\n")}\n` +
    (failed.length
      ? `\nRuns without results (see their rally.log):\n\n${failed.map((d) => `- \`${d}\``).join("\n")}\n`
      : "")
  );
}
