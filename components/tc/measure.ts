import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Host } from "../../config/types";
import type { GroupRule } from "./plan";
import { PairMeasurement, PairVerdict, judgePair, renderMarkdown, renderSvg } from "./validate";

const run = promisify(execFile);

export interface MeasureRequest {
  stack: string;
  hosts: Host[];
  groupRules: GroupRule[];
  sshConfig: string;
  outDir: string;
  /** fping probes per pair: enough for a stable median and a meaningful loss interval. */
  probes?: number;
  /** iperf3 seconds per pair, after one omitted second of TCP ramp-up. */
  seconds?: number;
}

const ssh = (sshConfig: string, alias: string, command: string) =>
  run("ssh", ["-F", sshConfig, alias, command], { maxBuffer: 16 * 1024 * 1024 });

/** fping -C prints `addr : 0.05 0.06 - 0.04 ...` on stderr, `-` for a lost probe. */
export function parseFping(output: string): number[] {
  const line = output.split("\n").find((l) => l.includes(" : "));
  return line ? line.split(" : ")[1].trim().split(/\s+/).filter((v) => v !== "-").map(Number) : [];
}

async function fping(sshConfig: string, from: Host, to: Host, probes: number): Promise<number[]> {
  // fping exits non-zero when a probe is lost; its report is on stderr either way.
  const result = await ssh(sshConfig, from.alias, `fping -C ${probes} -p 20 -q ${to.address} 2>&1 || true`);
  return parseFping(result.stdout);
}

async function iperf(sshConfig: string, from: Host, to: Host, seconds: number): Promise<number> {
  await ssh(sshConfig, to.alias, `iperf3 -s -1 -D -B ${to.address} -p 5201 && sleep 0.3`);
  const { stdout } = await ssh(sshConfig, from.alias, `iperf3 -c ${to.address} -p 5201 -t ${seconds} -O 1 -J`);
  return JSON.parse(stdout).end.sum_received.bits_per_second;
}

/**
 * `enos tc --test`: RTT and loss with fping between a sample host of every ordered pair of groups
 * (all pairs at once: pings are light), then iperf3 where a rate is asked (one pair at a time, so
 * that flows do not share a CPU); writes report.{json,md,svg,png} to outDir.
 */
export async function measureAndReport(request: MeasureRequest): Promise<PairVerdict[]> {
  const { hosts, sshConfig, groupRules, probes = 200, seconds = 4 } = request;
  const groups = [...new Set(hosts.flatMap((h) => h.groups))].sort();
  const sample = (group: string) => hosts.find((h) => h.groups.includes(group))!;
  const pairs = groups.flatMap((src) => groups.filter((dst) => dst !== src).map((dst) => ({ src, dst })));

  const measurements: PairMeasurement[] = await Promise.all(pairs.map(async ({ src, dst }) => ({
    src, dst, from: sample(src).alias, to: sample(dst).alias, probes,
    rttsMs: await fping(sshConfig, sample(src), sample(dst), probes),
  })));
  for (const m of measurements) {
    if (groupRules.some((r) => r.src === m.src && r.dst === m.dst)) {
      m.goodputBits = await iperf(sshConfig, sample(m.src), sample(m.dst), seconds);
    }
  }
  const verdicts = measurements.map((m) => judgePair(m, groupRules));

  fs.mkdirSync(request.outDir, { recursive: true });
  const file = (name: string) => path.join(request.outDir, name);
  fs.writeFileSync(file("report.json"), JSON.stringify({ stack: request.stack, date: new Date().toISOString(), groupRules, measurements, verdicts }, null, 2));
  fs.writeFileSync(file("report.md"), renderMarkdown(request.stack, verdicts));
  fs.writeFileSync(file("report.svg"), renderSvg(groups, verdicts));
  execFileSync("rsvg-convert", [file("report.svg"), "-o", file("report.png")]);
  return verdicts;
}

/** Run by the tc phase's test command: `node measure.js <request.json>`; exits 1 when a pair fails. */
if (require.main === module) {
  const request: MeasureRequest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  measureAndReport(request).then((verdicts) => {
    const failed = verdicts.filter((v) => !v.rtt.ok || !v.loss.ok || (v.rate && !v.rate.ok));
    console.log(`${verdicts.length - failed.length} of ${verdicts.length} group pairs pass; report: ${request.outDir}/report.md`);
    process.exit(failed.length ? 1 : 0);
  }, (error) => {
    console.error(error.message ?? error);
    process.exit(1);
  });
}
