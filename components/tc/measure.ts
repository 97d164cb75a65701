import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Host } from "../../config/types";
import { renderShaped } from "./addresses";
import type { GroupRule } from "./plan";
import { judgePair, type PairMeasurement, type PairVerdict, renderMarkdown, renderSvg } from "./validate";

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
  /** Each destination host's shaped addresses, VIPs named (tc/addresses.ts: shapedAddresses). */
  shaped: Record<string, string[]>;
}

const ssh = (sshConfig: string, alias: string, command: string) =>
  run("ssh", ["-F", sshConfig, alias, command], { maxBuffer: 16 * 1024 * 1024 });

/** fping -C prints `addr : 0.05 0.06 - 0.04 ...` on stderr, `-` for a lost probe. */
export function parseFping(output: string): number[] {
  const line = output.split("\n").find((candidate) => candidate.includes(" : "));
  return line
    ? line
        .split(" : ")[1]
        .trim()
        .split(/\s+/)
        .filter((value) => value !== "-")
        .map(Number)
    : [];
}

/**
 * One probe every 20 ms; each may take up to 2 s (fping's count mode otherwise times a probe out
 * after one period, which would count any RTT above 20 ms as lost). The report goes to stdout;
 * fping exits non-zero when a probe is lost.
 */
export const fpingCommand = (address: string, probes: number) =>
  `fping -C ${probes} -p 20 -t 2000 -q ${address} 2>&1 || true`;
/** The server's pid file: one per address, since the local testbed's hosts share this machine's /tmp. */
const iperfPidFile = (address: string) => `/tmp/enos-iperf3-${address}.pid`;
export const iperfServerCommand = (address: string) =>
  `iperf3 -s -1 -D -B ${address} -p 5201 -I ${iperfPidFile(address)} && sleep 0.3`;
/** Stops a server whose client never came (a one-off server otherwise waits for one forever). */
export const iperfStopCommand = (address: string) =>
  `if [ -f ${iperfPidFile(address)} ]; then kill "$(cat ${iperfPidFile(address)})" 2>/dev/null; rm -f ${iperfPidFile(address)}; fi; true`;
export const iperfClientCommand = (address: string, seconds: number) =>
  `iperf3 -c ${address} -p 5201 -t ${seconds} -O 1 -J`;
/** The first line after `@@TAG i` in the output of a script that tags what it prints that way. */
export const taggedLine = (output: string, tag: string, i: number): string =>
  output.split(`@@${tag} ${i}\n`)[1]?.split("\n")[0] ?? "";

/** iperf3's received goodput, bit/s, from its JSON report. */
/** iperf3's received goodput (bits/s) from its JSON report; what it printed instead is in the error. */
export function parseIperf(json: string): number {
  let bits: unknown;
  try {
    bits = JSON.parse(json).end?.sum_received?.bits_per_second;
  } catch {
    bits = undefined;
  }
  if (typeof bits === "number") return bits;
  const shown =
    json.length > 600 ? `${json.slice(0, 300)} [... ${json.length - 500} characters ...] ${json.slice(-200)}` : json;
  throw new Error(`iperf3 gave no report of received bits per second (end.sum_received), but: ${shown}`);
}

async function fping(sshConfig: string, from: Host, to: Host, probes: number): Promise<number[]> {
  return parseFping((await ssh(sshConfig, from.alias, fpingCommand(to.address, probes))).stdout);
}

/** Goodput from `from` to `to`; the server started on `to` never outlives a client that failed. */
export async function iperf(
  sshConfig: string,
  from: Pick<Host, "alias">,
  to: Pick<Host, "alias" | "address">,
  seconds: number,
): Promise<number> {
  await ssh(sshConfig, to.alias, iperfServerCommand(to.address));
  try {
    return parseIperf((await ssh(sshConfig, from.alias, iperfClientCommand(to.address, seconds))).stdout);
  } catch (error) {
    await ssh(sshConfig, to.alias, iperfStopCommand(to.address));
    throw error;
  }
}

/** One ordered pair of groups and the sample host of each: the first host of the group. */
export function samplePairs(hosts: Host[]): { src: string; dst: string; from: Host; to: Host }[] {
  const groups = [...new Set(hosts.flatMap((host) => host.groups))].sort();
  const sample = (group: string) => hosts.find((host) => host.groups.includes(group))!;
  return groups.flatMap((src) =>
    groups.filter((dst) => dst !== src).map((dst) => ({ src, dst, from: sample(src), to: sample(dst) })),
  );
}

/** Judges every measured pair and writes report.{json,md,svg,png} to outDir. */
export function writeReport(
  outDir: string,
  stack: string,
  groupRules: GroupRule[],
  measurements: PairMeasurement[],
  shaped: Record<string, string[]>,
): PairVerdict[] {
  const verdicts = measurements.map((measurement) => judgePair(measurement, groupRules));
  const groups = [...new Set(measurements.flatMap((measurement) => [measurement.src, measurement.dst]))].sort();
  fs.mkdirSync(outDir, { recursive: true });
  const file = (name: string) => path.join(outDir, name);
  fs.writeFileSync(
    file("report.json"),
    JSON.stringify({ stack, date: new Date().toISOString(), groupRules, shaped, measurements, verdicts }, null, 2),
  );
  fs.writeFileSync(file("report.md"), `${renderMarkdown(stack, verdicts)}\n${renderShaped(shaped)}`);
  fs.writeFileSync(file("report.svg"), renderSvg(groups, verdicts));
  execFileSync("rsvg-convert", [file("report.svg"), "-o", file("report.png")]);
  return verdicts;
}

/**
 * `enos tc --test`: RTT and loss with fping between a sample host of every ordered pair of groups
 * (all pairs at once: pings are light), then iperf3 where a rate is asked (one pair at a time, so
 * that flows do not share a CPU); writes report.{json,md,svg,png} to outDir.
 */
export async function measureAndReport(request: MeasureRequest): Promise<PairVerdict[]> {
  const { sshConfig, groupRules, probes = 200, seconds = 4 } = request;
  const pairs = samplePairs(request.hosts);
  const measurements: PairMeasurement[] = await Promise.all(
    pairs.map(async ({ src, dst, from, to }) => ({
      src,
      dst,
      from: from.alias,
      to: to.alias,
      probes,
      rttsMs: await fping(sshConfig, from, to, probes),
    })),
  );
  for (const [i, { src, dst, from, to }] of pairs.entries()) {
    if (groupRules.some((rule) => rule.src === src && rule.dst === dst))
      measurements[i].goodputBits = await iperf(sshConfig, from, to, seconds);
  }
  return writeReport(request.outDir, request.stack, groupRules, measurements, request.shaped);
}

/** Run by the tc phase's test command: `node measure.js <request.json | ->`; exits 1 when a pair fails. */
if (require.main === module) {
  // "-": the request on stdin, read from fd 0 (the command plugin's stdin is a socket, which
  // /dev/stdin cannot open: ENXIO).
  const request: MeasureRequest = JSON.parse(fs.readFileSync(process.argv[2] === "-" ? 0 : process.argv[2], "utf8"));
  measureAndReport(request).then(
    (verdicts) => {
      const failed = verdicts.filter(
        (verdict) => !verdict.rtt.ok || !verdict.loss.ok || (verdict.rate && !verdict.rate.ok),
      );
      console.log(
        `${verdicts.length - failed.length} of ${verdicts.length} group pairs pass; report: ${request.outDir}/report.md`,
      );
      process.exit(failed.length ? 1 : 0);
    },
    (error) => {
      console.error(error.message ?? error);
      process.exit(1);
    },
  );
}
