import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { PROJECT_DIR } from "../../config/paths";

/**
 * npm test: every test file of tests/unit and tests/integration, each in its own `node --test` process
 * as node's runner makes them, in two steps:
 * 1. the files that measure delays, losses and rates, one at a time with nothing else running (a busy
 *    CPU shifts what they measure: the netem VM's timers, iperf3 at 1 Gbit/s);
 * 2. all the others side by side, ENOS_TEST_JOBS at a time (default: the number of CPUs), longest first.
 *    They share nothing: each integration file has subnets of its own (README, Tests), names its stacks,
 *    namespaces and links after its pid, listens on ephemeral loopback ports, and checks at its end
 *    that it left nothing of its own behind.
 * Usage: node dist/tests/support/run-suite.js [unit|integration|tests/...test.ts]... (default: unit and
 * integration; ENOS_TEST_JOBS=1: one file at a time).
 * A file's output is printed whole once it ends, with its time and the CPU time of its processes.
 */
const ALONE = ["netem-vm", "network-emulation", "cli"].map((name) => `tests/integration/${name}.test.ts`);
/** The longest files (minutes each), started first so that the others fill in beside them. */
const LONGEST = [
  "dev-cloud",
  "openstack-testbed",
  "dev-cloud-scripts",
  "g5k",
  "testbeds",
  "benchmark",
  "monitoring",
].map((name) => `tests/integration/${name}.test.ts`);

interface Result {
  file: string;
  code: number;
  seconds: number;
  /** user + system CPU seconds of the file's processes that were waited for (daemons such as sshd are not). */
  cpu: number;
  counts: Record<string, number>;
}

/** The test files of the sources (not whatever dist/ still holds from files since moved or removed). */
function testFiles(dir: string): string[] {
  return fs.readdirSync(path.join(PROJECT_DIR, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(file);
    return entry.name.endsWith(".test.ts") ? [file] : [];
  });
}

function compiled(file: string): string {
  const js = path.join(PROJECT_DIR, "dist", file.replace(/\.ts$/, ".js"));
  if (!fs.existsSync(js)) throw new Error(`${js} is missing: build first (npm run build)`);
  return js;
}

/** Runs one file; `bash -c times` reports the CPU time of the processes it waited for. */
function runFile(file: string): Promise<Result> {
  const started = Date.now();
  process.stdout.write(`### ${file}: started\n`);
  const child = spawn("bash", ["-c", 'node --test "$1"; status=$?; times >&3; exit $status', "run", compiled(file)], {
    cwd: PROJECT_DIR,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  const chunks: Buffer[] = [];
  let times = "";
  const [, stdout, stderr, timesOut] = child.stdio as Readable[];
  for (const stream of [stdout, stderr]) stream.on("data", (data: Buffer) => chunks.push(data));
  timesOut.on("data", (data: Buffer) => {
    times += data;
  });
  return new Promise((resolve) =>
    child.on("close", (code) => {
      const output = Buffer.concat(chunks).toString();
      process.stdout.write(`\n### ${file}\n${output}`);
      // `times`: the shell's own user and system time, then its children's: "0m1.5s 0m0.2s".
      const children = times.trim().split("\n")[1] ?? "";
      const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
        (sum, [, m, s]) => sum + Number(m) * 60 + Number(s),
        0,
      );
      const counts = Object.fromEntries(
        [...output.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]),
      );
      const result = { file, code: code ?? 1, seconds: (Date.now() - started) / 1000, cpu, counts };
      process.stdout.write(`### ${file}: ${summary(result)}\n`);
      resolve(result);
    }),
  );
}

const summary = (r: Result) =>
  `${r.code === 0 ? "ok" : `FAILED (exit ${r.code})`}, ${r.seconds.toFixed(0)} s, CPU ${r.cpu.toFixed(0)} s, ` +
  `${r.counts.tests ?? 0} tests, ${r.counts.fail ?? 0} failed`;

/** Runs `files` with at most `jobs` at a time, in their order. */
async function pool(files: string[], jobs: number): Promise<Result[]> {
  const queue = [...files];
  const results: Result[] = [];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) results.push(await runFile(file));
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = (args.length ? args : ["unit", "integration"])
    .flatMap((arg) => {
      if (arg === "unit" || arg === "integration") return testFiles(`tests/${arg}`);
      if (arg.endsWith(".test.ts") && fs.existsSync(path.join(PROJECT_DIR, arg))) return [arg];
      throw new Error(
        `${arg}: give unit, integration or test files (tests/....test.ts), or nothing (unit and integration)`,
      );
    })
    .sort();
  const rank = (file: string) => (LONGEST.includes(file) ? LONGEST.indexOf(file) : LONGEST.length);
  const alone = files.filter((f) => ALONE.includes(f));
  const besides = files.filter((f) => !ALONE.includes(f)).sort((a, b) => rank(a) - rank(b));
  const jobs = Number(process.env.ENOS_TEST_JOBS ?? os.availableParallelism());
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new Error(`ENOS_TEST_JOBS=${process.env.ENOS_TEST_JOBS}: give how many files may run at a time (1 or more)`);
  const started = Date.now();
  const results = [...(await pool(alone, 1)), ...(await pool(besides, jobs))];
  const total = (key: string) => results.reduce((sum, r) => sum + (r.counts[key] ?? 0), 0);
  const failed = results.filter((r) => r.code !== 0);
  console.log(`\n## ${results.length} files, ${((Date.now() - started) / 60000).toFixed(1)} min, ${jobs} side by side`);
  for (const r of [...results].sort((a, b) => b.seconds - a.seconds)) console.log(`${r.file}: ${summary(r)}`);
  const counts = ["tests", "pass", "fail", "cancelled", "skipped", "todo"].map((key) => `${key} ${total(key)}`);
  console.log(`## ${counts.join(", ")}; files failed: ${failed.map((r) => r.file).join(", ") || "none"}`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`run-suite: ${error.message}`);
    process.exit(2);
  },
);
