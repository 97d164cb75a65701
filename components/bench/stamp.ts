import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { type BenchRun, slug } from "../../workloads/expand";

/**
 * What the next run is measured under, as the program knows it (results/<stack>/conditions.json,
 * rewritten when it changes). Each run copies it at its start: a change of it re-runs nothing, but
 * the runs after it say so.
 */
export interface Conditions {
  /** sha256 of the normalized configuration (`enos check --json`'s config, compact JSON). */
  configuration: string;
  /** Where the OpenStack under test comes from; null without one (Rally's Dummy scenarios). */
  openstack: { source: "kolla-ansible" | "dev cloud"; globals: string } | null;
  /** The network emulation's plan (a hash), and its measured report's directory when it was measured. */
  network: { plan: string; reportDir: string | null } | null;
}

/** One run's record, stamp.json in its directory. */
export interface Stamp {
  run: BenchRun;
  /** enos:bench_run_id, null when unset. */
  runId: string | null;
  /** UTC, ISO 8601, to the second (its directory's name may be a second on: see stampRun). */
  started: string;
  /** What triggers a re-run of this entry (components/benchmark.ts: runFingerprint). */
  fingerprint: string;
  configuration: string;
  openstack: { source: string; release: string | null; globalsSha256: string } | null;
  /** The plan and, when it was measured, the report copied beside the results (tc-report.{json,md}). */
  network: { plan: string; report: string | null } | null;
}

/** What a run script hands this one (as a JSON file): where its runs go and what it is. */
export interface StampRequest {
  conditions: string;
  /** results/<stack>/<type>/<scenario>/<args>: each run is a directory in it. */
  base: string;
  run: BenchRun;
  runId: string | null;
  fingerprint: string;
}

const sha256 = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

/** A run directory's name: its start (sortable, UTC) and the run id, e.g. 20261207T051500Z_second. */
export function runName(started: Date, runId: string | null): string {
  const time = started
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
  return runId === null ? time : `${time}_${slug(runId)}`;
}

/** The OpenStack release a run measures: globals.yml's for Kolla, the packages' for the dev cloud. */
function releaseOf(source: string, globals: Record<string, unknown>): string | null {
  if (source === "kolla-ansible") return String(globals.openstack_release ?? "") || null;
  try {
    return `Debian keystone ${execFileSync("dpkg-query", ["-W", `-f=\${Version}`, "keystone"], { encoding: "utf8" })}`;
  } catch {
    return null;
  }
}

/**
 * Makes a new run's directory under `base` (never one an earlier run has: repetitions are a campaign's
 * measurements), writes its stamp.json and the tc report it runs under, and returns the directory.
 */
export function stampRun(request: StampRequest, now = new Date()): string {
  const conditions: Conditions = JSON.parse(fs.readFileSync(request.conditions, "utf8"));
  fs.mkdirSync(request.base, { recursive: true });
  // Two runs of an entry within a second (a fast Dummy task run again at once): the later one named a second on.
  let named = now;
  let dir = path.join(request.base, runName(named, request.runId));
  while (fs.existsSync(dir)) {
    named = new Date(named.getTime() + 1000);
    dir = path.join(request.base, runName(named, request.runId));
  }
  fs.mkdirSync(dir);
  let report: string | null = null;
  const reportDir = conditions.network?.reportDir;
  if (reportDir && fs.existsSync(path.join(reportDir, "report.json"))) {
    for (const ext of ["json", "md"]) {
      fs.copyFileSync(path.join(reportDir, `report.${ext}`), path.join(dir, `tc-report.${ext}`));
    }
    report = "tc-report.json";
  }
  const os = conditions.openstack;
  const globalsText = os && fs.readFileSync(os.globals);
  const stamp: Stamp = {
    run: request.run,
    runId: request.runId,
    started: now.toISOString().replace(/\.\d+Z$/, "Z"),
    fingerprint: request.fingerprint,
    configuration: conditions.configuration,
    openstack:
      os && globalsText
        ? {
            source: os.source,
            release: releaseOf(os.source, (yaml.load(globalsText.toString("utf8")) ?? {}) as Record<string, unknown>),
            globalsSha256: sha256(globalsText),
          }
        : null,
    network: conditions.network && { plan: conditions.network.plan, report },
  };
  fs.writeFileSync(path.join(dir, "stamp.json"), `${JSON.stringify(stamp, null, 2)}\n`);
  return dir;
}

if (require.main === module) {
  console.log(stampRun(JSON.parse(fs.readFileSync(process.argv[2], "utf8"))));
}
