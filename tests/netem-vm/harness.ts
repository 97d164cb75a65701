import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { shapedAddresses } from "../../components/tc/addresses";
import {
  fpingCommand,
  iperfClientCommand,
  iperfServerCommand,
  parseFping,
  parseIperf,
  samplePairs,
  taggedLine,
  writeReport,
} from "../../components/tc/measure";
import { accurateRules, baseRtts, type GroupRule, planGroupRules, planHostRules } from "../../components/tc/plan";
import { renderApplyScript } from "../../components/tc/render";
import type { PairMeasurement, PairVerdict } from "../../components/tc/validate";
import { loadExperiment } from "../../config/load";
import { addressIn } from "../../config/net";
import { CACHE_DIR, PROJECT_DIR } from "../../config/paths";
import { planSlots, slotHost } from "../../config/slots";
import type { Host } from "../../config/types";
import { FIRST_HOST_OFFSET, localNetwork } from "../../providers/local/plan";

/**
 * Delay and loss measured for real on a kernel that has netem: a qemu VM (software emulation) booted
 * from Debian's kernel, in which the dev stack's hosts are namespaces on a bridge, with the same
 * addresses and groups, running the exact tc scripts the tc phase renders for the same config.
 */

const run = promisify(execFile);
const API_CIDR = "10.231.0.0/24";

export interface VmRun {
  hosts: Host[];
  /** The rules as asked, and as applied (they differ in accurate mode). */
  groupRules: GroupRule[];
  appliedRules: GroupRule[];
  /** Seconds, by the VM's clock, to apply every host's rules and to measure every pair (last boot). */
  applySeconds: number;
  verifySeconds: number;
  /** Accurate mode: each pair's RTT measured before any rule, ms. */
  baseRttMs?: Record<string, number>;
  measurements: PairMeasurement[];
  verdicts: PairVerdict[];
  reportDir: string;
  seconds: number;
}

export interface VmOptions {
  /** fping probes per pair. */
  probes?: number;
  /** Measure rates with iperf3 too (slow under software emulation: keep rates low). */
  rates?: boolean;
}

/**
 * The VM image scripts/setup built (tests/netem-vm/build) into the cache; its directory. A test
 * never builds it: that takes packages and a kernel download.
 */
export function vmImage(cacheDir = CACHE_DIR): string {
  const pointer = path.join(cacheDir, "netem-vm", "current");
  const dir = fs.existsSync(pointer) ? fs.readFileSync(pointer, "utf8").trim() : "";
  if (!dir || !fs.existsSync(path.join(dir, "vmlinuz")) || !fs.existsSync(path.join(dir, "base.cpio.gz"))) {
    throw new Error(
      `the netem VM image is not in ${path.dirname(pointer)}: run scripts/setup (it builds it with tests/netem-vm/build)`,
    );
  }
  return dir;
}

/** Hosts of a local-provider config, as the local testbed would make them (one API interface each). */
export function vmHosts(config: Record<string, unknown>): {
  hosts: Host[];
  groupRules: GroupRule[];
  accurate: boolean;
} {
  const experiment = loadExperiment({ stack: { provider: "local", ...config }, baseDir: PROJECT_DIR });
  const network = localNetwork(API_CIDR, "10.232.0.0/24");
  const hosts = planSlots(experiment.demands).map((spec, slot): Host => {
    const address = addressIn(API_CIDR, FIRST_HOST_OFFSET + slot);
    return {
      ...slotHost(spec),
      address,
      extra: {},
      interfaces: { api: network.eths[0], external: network.eths[1] },
      ips: [address],
      devices: [network.eths[0]],
      kernel: { htb: true, netem: true },
    };
  });
  const nc = experiment.networkConstraints!;
  return { hosts, groupRules: planGroupRules(experiment.groups, nc), accurate: nc.accurate };
}

/** The VM's /run.sh: the namespaces, each host's rendered tc script, then the measurements. */
export function vmScript(hosts: Host[], groupRules: GroupRule[], options: Required<VmOptions>): string {
  const plans = planHostRules(hosts, groupRules);
  const ns = (h: Host) => `h${hosts.indexOf(h)}`;
  // Busybox's sh prefers its own ip/tc applets to any binary: functions make the real ones win.
  const lines = [
    "cat > /tmp/tools <<'TOOLS'",
    'tc() { /sbin/tc "$@"; }',
    'ip() { /sbin/ip "$@"; }',
    "TOOLS",
    ". /tmp/tools",
    "ip link add br0 type bridge && ip link set br0 up",
  ];
  for (const host of hosts) {
    lines.push(
      `ip netns add ${ns(host)}`,
      `ip link add v${ns(host)} type veth peer name eth0 netns ${ns(host)}`,
      `ip link set v${ns(host)} master br0 up`,
      `ip -n ${ns(host)} addr add ${host.address}/24 dev eth0`,
      `ip -n ${ns(host)} link set eth0 up`,
      `ip -n ${ns(host)} link set lo up`,
    );
  }
  // The VM's clock (uptime) around applying and verifying, for the bench.
  const mark = (what: string) => `echo "@@TIME ${what} $(cut -d' ' -f1 /proc/uptime)"`;
  lines.push(mark("apply"));
  for (const plan of plans) {
    const host = hosts.find((h) => h.alias === plan.alias)!;
    lines.push(
      `cat /tmp/tools - > /tmp/apply-${ns(host)}.sh <<'APPLY'`,
      renderApplyScript(plan).trimEnd(),
      "APPLY",
      // As the phase runs it (a shell reading the script on stdin): the script must stop at its own first failure.
      `ip netns exec ${ns(host)} sh -s < /tmp/apply-${ns(host)}.sh || echo "@@APPLY-FAILED ${plan.alias}"`,
    );
  }
  lines.push(mark("verify"));
  const pairs = samplePairs(hosts);
  // Every pinger waits for /tmp/go, made a second after the last one started, so that all probe the same
  // period: otherwise the first pair's probes overlap the emulated CPU's work of starting the others
  // (grp1->grp2 measured 2-3 ms over on a busy host, even with a fixed 3 s head start each).
  for (const [i, { from, to }] of pairs.entries()) {
    lines.push(
      `ip netns exec ${ns(from)} sh -c 'until [ -e /tmp/go ]; do sleep 0.1; done; ${fpingCommand(to.address, options.probes)}' > /tmp/fping-${i} &`,
    );
  }
  lines.push("sleep 1", "touch /tmp/go", "wait");
  for (const i of pairs.keys()) lines.push(`echo "@@FPING ${i}"`, `cat /tmp/fping-${i}`);
  if (options.rates) {
    pairs.forEach(({ src, dst, from, to }, i) => {
      if (!groupRules.some((r) => r.src === src && r.dst === dst)) return;
      lines.push(
        `ip netns exec ${ns(to)} ${iperfServerCommand(to.address)}`,
        `echo "@@IPERF ${i}"`,
        `ip netns exec ${ns(from)} ${iperfClientCommand(to.address, 3)} | tr -d '\\n'`,
        "echo",
      );
    });
  }
  lines.push(mark("end"));
  return `${lines.join("\n")}\n`;
}

/** What a VM run is asked to do, from which its deadline follows. */
export interface VmWork {
  hosts: number;
  /** Sampled group pairs, pinged all at once. */
  pairs: number;
  probes: number;
  /** Pairs measured with iperf3, one after the other. */
  ratePairs: number;
}

/**
 * Seconds the VM may take: a boot allowance, then the work at the pace software emulation on a busy
 * host gives it (3 times the nominal time): every probe 20 ms apart plus fping's 2 s timeout, one
 * iperf3 run (3 s + 1 s omitted + setup) per rate pair, half a second per pinging pair, and the
 * namespaces and scripts per host.
 */
export function vmDeadline(work: VmWork): number {
  const nominal = (work.probes * 20) / 1000 + 2 + work.pairs / 2 + work.ratePairs * 6 + work.hosts;
  return Math.ceil(60 + 3 * nominal);
}

/** Boots the VM with the script appended to its initramfs; returns what the VM printed. */
export async function bootVm(image: string, script: string, deadlineSeconds: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-netem-vm-"));
  try {
    fs.mkdirSync(path.join(dir, "extra"));
    fs.writeFileSync(path.join(dir, "extra", "run.sh"), script, { mode: 0o755 });
    // The kernel unpacks concatenated cpio archives in turn: the base image, then /run.sh.
    execFileSync(
      "bash",
      [
        "-c",
        `cd extra && find . | cpio -o -H newc --quiet | gzip -1 > ../extra.cpio.gz && cat '${image}/base.cpio.gz' ../extra.cpio.gz > ../initrd.gz`,
      ],
      { cwd: dir },
    );
    // The console goes to a file: into a pipe whose reader is slow (the machine busy), qemu's serial port
    // drops what it cannot write (CI lost the end of an iperf3 report, and whole ends of runs).
    const consoleFile = path.join(dir, "console.log");
    const printed = () => (fs.existsSync(consoleFile) ? fs.readFileSync(consoleFile, "utf8").replace(/\r/g, "") : "");
    // At the highest priority: on a busy machine the emulated kernel's timers fire late, and netem's delays
    // with them (2 CPU hogs beside it: 40 ms asked, 46 measured; at nice -20: 40.9).
    await run(
      "nice",
      [
        "-n",
        "-20",
        "qemu-system-x86_64",
        // Two vCPUs on two host threads: the parallel fpings of many pairs must not queue behind one emulated CPU.
        "-accel",
        "tcg,thread=multi",
        "-m",
        "512",
        "-smp",
        "2",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        `file:${consoleFile}`,
        "-no-reboot",
        "-nic",
        "none",
        "-kernel",
        path.join(image, "vmlinuz"),
        "-initrd",
        path.join(dir, "initrd.gz"),
        "-append",
        "console=ttyS0 quiet panic=-1",
      ],
      { timeout: deadlineSeconds * 1000, killSignal: "SIGKILL" },
    ).catch((error: { killed?: boolean }) => {
      if (!error.killed) throw error;
      throw new Error(
        `the VM timed out after ${deadlineSeconds} s (its deadline, from the work asked):\n${printed().slice(-2000)}`,
      );
    });
    const output = printed();
    if (!/@@VM-DONE/.test(output)) throw new Error(`the VM did not finish its script:\n${output.slice(-2000)}`);
    const failed = [...output.matchAll(/@@APPLY-FAILED (\S+)/g)].map((m) => m[1]);
    if (failed.length) throw new Error(`tc failed in the VM on ${failed.join(", ")}:\n${output.slice(-3000)}`);
    return output;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Boots the VM with these rules applied and returns what was measured per sampled group pair. */
async function measureRules(image: string, hosts: Host[], rules: GroupRule[], options: Required<VmOptions>) {
  const pairs = samplePairs(hosts);
  const ratePairs = options.rates
    ? pairs.filter(({ src, dst }) => rules.some((r) => r.src === src && r.dst === dst)).length
    : 0;
  const deadline = vmDeadline({ hosts: hosts.length, pairs: pairs.length, probes: options.probes, ratePairs });
  const output = await bootVm(image, vmScript(hosts, rules, options), deadline);
  const time = (what: string) => Number(output.match(new RegExp(`@@TIME ${what} (\\S+)`))?.[1]);
  const timings = { applySeconds: time("verify") - time("apply"), verifySeconds: time("end") - time("verify") };
  const measurements = samplePairs(hosts).map(({ src, dst, from, to }, i): PairMeasurement => {
    const iperf = taggedLine(output, "IPERF", i);
    return {
      src,
      dst,
      from: from.alias,
      to: to.alias,
      probes: options.probes,
      rttsMs: parseFping(taggedLine(output, "FPING", i)),
      ...(iperf ? { goodputBits: parseIperf(iperf) } : {}),
    };
  });
  return { measurements, ...timings };
}

/**
 * Runs a network_constraints config in the VM and writes the same report as the tc phase's
 * validation. In accurate mode a first boot measures each pair's base RTT with no rule.
 */
export async function measureInVm(
  config: Record<string, unknown>,
  reportDir: string,
  options: VmOptions = {},
): Promise<VmRun> {
  const start = performance.now();
  const opts = { probes: 200, rates: false, ...options };
  const { hosts, groupRules, accurate } = vmHosts(config);
  const image = vmImage();
  let appliedRules = groupRules;
  let baseRttMs: Record<string, number> | undefined;
  if (accurate) {
    const { measurements: base } = await measureRules(image, hosts, [], { ...opts, rates: false });
    const measured = baseRtts(base.map((m) => ({ ...m, output: m.rttsMs.join(" ") })));
    baseRttMs = measured.rttMs;
    const adjusted = accurateRules(groupRules, baseRttMs);
    const problems = [...measured.problems, ...adjusted.problems];
    if (problems.length) throw new Error(`accurate mode is impossible for:\n  - ${problems.join("\n  - ")}`);
    appliedRules = adjusted.rules;
  }
  const { measurements, applySeconds, verifySeconds } = await measureRules(image, hosts, appliedRules, opts);
  const verdicts = writeReport(
    reportDir,
    "netem-vm",
    groupRules,
    measurements,
    shapedAddresses(planHostRules(hosts, appliedRules)),
  );
  return {
    hosts,
    groupRules,
    appliedRules,
    applySeconds,
    verifySeconds,
    baseRttMs,
    measurements,
    verdicts,
    reportDir,
    seconds: (performance.now() - start) / 1000,
  };
}
