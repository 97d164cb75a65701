import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { local } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_DIR } from "../config/paths";
import { shellQuote } from "../config/shell";
import { type BenchRun, runDir } from "../workloads/expand";
import type { Workload } from "../workloads/run-file";
import type { ClientRoute } from "./bench/client";
import { type BenchPaths, renderRallyEnvScript, renderRallyRunScript, renderShakerRunScript } from "./bench/render";
import type { Conditions } from "./bench/stamp";
import type { SummaryRequest } from "./bench/summarize";
import { BASH, localFile, replacedFirst } from "./commands";

export interface BenchmarkArgs {
  /** The validated workload (workloads/run-file.ts: readWorkload). */
  workload: Workload;
  /** results/<stack>: each run writes to <type>/<scenario>/<args-slug> under it. */
  resultsDir: string;
  /** Path of an admin-openrc file on this machine; without it Rally gets an empty environment and Shaker is skipped. */
  openrc?: pulumi.Input<string>;
  /** Any new value re-runs every run (enos:bench_run_id). */
  runId?: string;
  /**
   * A hash of the network emulation's plan: results measured under another network are not current,
   * so a change (new constraints, emulation turned off) re-runs every run.
   */
  networkPlan?: pulumi.Input<string>;
  /**
   * What each run is stamped with besides the network's plan: the configuration's hash, the OpenStack
   * under test, and the tc report's directory when the emulation is measured (network_constraints.test).
   */
  conditions: Omit<Conditions, "network"> & { tcReportDir?: string };
  /** How the clients reach the VIPs, and the ssh_config of the hosts (a SOCKS proxy's way); direct when absent. */
  client?: pulumi.Input<{ route: ClientRoute; sshConfig: string }>;
}

/**
 * Every byte a path holds: a file, or each file of a directory in name order (Python's bytecode caches left out:
 * loading a plugin writes them).
 */
function contentsOf(file: string): string[] {
  if (!fs.statSync(file).isDirectory()) return [fs.readFileSync(file, "latin1")];
  return fs
    .readdirSync(file)
    .filter((entry) => entry !== "__pycache__" && !entry.endsWith(".pyc"))
    .sort()
    .flatMap((entry) => [entry, ...contentsOf(path.join(file, entry))]);
}

/** What a run consumes: its entry, its task file and plugin (a Shaker alias is no file), the run id. */
export function runFingerprint(run: BenchRun, workloadDir: string, runId?: string): string {
  const files =
    run.type === "rally"
      ? [run.file, ...(run.plugin ? [run.plugin] : [])].map((file) => contentsOf(path.resolve(workloadDir, file)))
      : [];
  return createHash("sha256").update(JSON.stringify({ run, files, runId })).digest("hex");
}

/**
 * Runs a workload, one Command per (scenario, args) entry, one after the other in run.yml's order
 * (benchmarks running side by side would measure each other). A run's triggers are its fingerprint
 * (and the Rally environment), so an unchanged re-up runs nothing and a changed entry re-runs only
 * itself. Results stay on destroy: they are the experiment's product.
 */
export class Benchmark extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:Benchmark";
  /** Path of the Rally summary (markdown; summary.json beside it); undefined without Rally runs. */
  public readonly summary?: pulumi.Output<string>;

  constructor(name: string, args: BenchmarkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Benchmark.__pulumiType, name, {}, opts);
    const openrc = args.openrc === undefined ? undefined : pulumi.output(args.openrc);
    const client = pulumi.output(args.client);
    const paths = (rc?: string): BenchPaths => ({
      bin: path.join(PROJECT_DIR, ".venv", "bin"),
      // pyshaker needs Jinja2 < 3, which ansible-core cannot use: it has a venv of its own.
      shakerBin: path.join(PROJECT_DIR, ".venv-shaker", "bin"),
      workloadDir: args.workload.dir,
      resultsDir: args.resultsDir,
      openrc: rc,
      conditions: path.join(args.resultsDir, "conditions.json"),
    });
    const withOpenrc = <T>(render: (p: BenchPaths) => T) =>
      pulumi.all([openrc, client]).apply(([rc, c]) => render({ ...paths(rc), client: c }));
    const identity = (hash: string) => ({ runId: args.runId ?? null, fingerprint: hash });
    const fingerprint = (run: BenchRun) => runFingerprint(run, args.workload.dir, args.runId);
    const network = args.networkPlan ?? "no network emulation";
    // Read by each run when it starts, not an input of the runs: a change of it re-runs nothing.
    const { tcReportDir, ...known } = args.conditions;
    const conditions = localFile(
      `${name}-conditions`,
      {
        path: paths().conditions,
        content: pulumi.output(args.networkPlan).apply((plan) =>
          JSON.stringify({
            ...known,
            network: plan ? { plan, reportDir: tcReportDir ?? null } : null,
          } satisfies Conditions),
        ),
      },
      { parent: this, dependsOn: opts?.dependsOn },
    ).command;
    const after = [conditions];

    const shakerRuns = args.workload.runs.filter((run) => run.type === "shaker");
    if (shakerRuns.length && !openrc) {
      pulumi.log.warn(
        `bench: ${shakerRuns.length} shaker run(s) skipped: Shaker needs OpenStack, and this stack has none (no admin-openrc)`,
        this,
      );
    }
    // Each run waits for the one before it, in run.yml's order.
    let previous: pulumi.Resource[] = [];
    const waitFor = () => (previous.length ? previous : after);
    let env: local.Command | undefined;
    const rallyRuns: { run: BenchRun; command: local.Command; hash: string }[] = [];
    for (const run of args.workload.runs) {
      const hash = fingerprint(run);
      let command: local.Command;
      if (run.type === "rally") {
        env ??= new local.Command(
          `${name}-rally-env`,
          { create: withOpenrc(renderRallyEnvScript), interpreter: BASH },
          replacedFirst({ parent: this, dependsOn: waitFor() }),
        );
        command = new local.Command(
          `${name}-run:${runDir(run)}`,
          {
            create: withOpenrc((benchPaths) => renderRallyRunScript(run, identity(hash), benchPaths)),
            interpreter: BASH,
            triggers: [hash, env.stdout, network],
          },
          replacedFirst({ parent: this, dependsOn: [env, ...waitFor()] }),
        );
        rallyRuns.push({ run, command, hash });
      } else if (openrc) {
        command = new local.Command(
          `${name}-run:${runDir(run)}`,
          {
            create: pulumi
              .all([openrc, client])
              .apply(([rc, c]) => renderShakerRunScript(run, identity(hash), { ...paths(rc), openrc: rc, client: c })),
            interpreter: BASH,
            triggers: [hash, network],
          },
          replacedFirst({ parent: this, dependsOn: waitFor() }),
        );
      } else {
        continue;
      }
      previous = [command];
    }

    if (env) {
      // The runs of this update's entries are the current ones; the summary lists every run there is.
      const request = pulumi
        .all(rallyRuns.map(({ command }) => command.stdout))
        .apply((dirs): SummaryRequest => ({ resultsDir: args.resultsDir, current: dirs.map((dir) => dir.trim()) }));
      const summarize = shellQuote(path.join(__dirname, "bench", "summarize.js"));
      const summary = new local.Command(
        `${name}-rally-summary`,
        {
          create: request.apply(
            (summaryRequest) =>
              `node ${summarize} /dev/stdin <<'ENOS_JSON'\n${JSON.stringify(summaryRequest)}\nENOS_JSON\n`,
          ),
          interpreter: BASH,
          triggers: [rallyRuns.map(({ hash }) => hash).join(","), env.stdout, network],
        },
        replacedFirst({ parent: this, dependsOn: rallyRuns.map(({ command }) => command) }),
      );
      this.summary = summary.stdout.apply(() => path.join(args.resultsDir, "rally", "summary.md"));
    }
    this.registerOutputs({ summary: this.summary });
  }
}
