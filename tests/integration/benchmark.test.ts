import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { PROJECT_DIR } from "../../config/paths";
import type { SummaryRow } from "../../workloads/rally-summary";
import { cleanUp, type TestExperiment, testExperiment } from "../support/harness";

const provider = { type: "local", api_cidr: "10.247.0.0/24", external_cidr: "10.248.0.0/24" };
const resources = { control: 1, network: 1, compute: 1 };

/** Runs `up`, returning each resource's operation (create, replace, delete, same) by its name. */
async function upWithOps(experiment: TestExperiment): Promise<Map<string, string>> {
  const ops = new Map<string, string>();
  const onEvent = (event: EngineEvent) => {
    const meta = event.resourcePreEvent?.metadata;
    // A replacement shows as delete-replaced then create-replacement (the commands delete before they replace).
    if (meta) ops.set(meta.urn.split("::").pop()!, meta.op.includes("replace") ? "replace" : meta.op);
  };
  const result = await experiment.stack.up({ parallel: 64, onEvent });
  assert.equal(result.summary.result, "succeeded");
  return ops;
}

const runsWith = (ops: Map<string, string>, op: string) =>
  [...ops]
    .filter(([name, o]) => name.startsWith("bench-run:") && o === op)
    .map(([name]) => name)
    .sort();

describe("benchmarks: the dummy workload really runs in Rally", { timeout: 600_000 }, () => {
  let bench: TestExperiment;
  let workload: string;
  let resultsDir: string;
  /** An entry's run directories (relative to the results), oldest first. */
  const runsOf = (entry: string): string[] =>
    fs.existsSync(path.join(resultsDir, entry))
      ? fs
          .readdirSync(path.join(resultsDir, entry))
          .sort()
          .map((run) => path.join(entry, run))
      : [];
  const summary = (): SummaryRow[] =>
    JSON.parse(fs.readFileSync(path.join(resultsDir, "rally", "summary.json"), "utf8"));
  const config = (extra: Record<string, unknown> = {}) => ({
    provider,
    resources,
    kolla_mode: "check",
    workload,
    ...extra,
  });

  before(async () => {
    bench = await testExperiment(`bn${process.pid}`, {});
    // A copy of the sample, so that a test can change it.
    workload = path.join(bench.dir, "workload");
    fs.cpSync(path.join(PROJECT_DIR, "workloads", "dummy"), workload, { recursive: true });
    resultsDir = path.join(bench.dir, "results", bench.name);
    await bench.setConfig(config());
  });
  after(async () => cleanUp(bench));

  test("every run's reports exist and the summary has the iterations and success rates the tasks ask for", async () => {
    // As an earlier version left it: readable by anyone.
    fs.mkdirSync(path.join(resultsDir, "rally"), { recursive: true, mode: 0o755 });
    const up = await bench.stack.up({ parallel: 64 });
    assert.equal(up.outputs.benchmarkSummary.value, path.join(resultsDir, "rally", "summary.md"));
    // Rally's database keeps the admin password it was given (env --from-sysenv): its owner's only.
    assert.equal(fs.statSync(path.join(resultsDir, "rally")).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(resultsDir, "rally", "rally.sqlite")).mode & 0o777, 0o600);
    const entries = [
      "rally/sleep/concurrency-1_times-10_sleep-0.01",
      "rally/sleep/concurrency-2_times-10_sleep-0.01",
      "rally/failures/concurrency-1_times-10_each-5_max_failure_percent-10",
      "rally/plugin-steps/concurrency-1_times-10_steps-3",
    ];
    // Each run in a directory of its own under its entry's, named by its start (no run id set).
    const dirs = entries.map((entry) => {
      const runs = runsOf(entry);
      assert.equal(runs.length, 1, `${entry}: one run`);
      assert.match(path.basename(runs[0]), /^\d{8}T\d{6}Z$/);
      return runs[0];
    });
    for (const dir of dirs) {
      assert.match(fs.readFileSync(path.join(resultsDir, dir, "report.html"), "utf8"), /<html/i, `${dir}/report.html`);
      assert.equal(
        JSON.parse(fs.readFileSync(path.join(resultsDir, dir, "results.json"), "utf8")).tasks[0].status,
        "finished",
      );
      const stamp = JSON.parse(fs.readFileSync(path.join(resultsDir, dir, "stamp.json"), "utf8"));
      assert.deepEqual(
        [stamp.runId, stamp.openstack, stamp.network, stamp.configuration.length],
        [null, null, null, 64],
        `${dir}/stamp.json: no run id, no OpenStack, no network emulation, the configuration's sha256`,
      );
    }
    assert.deepEqual(
      summary().map((r) => [r.dir, r.workload, r.iterations, r.successRate, r.sla.passed, r.current]),
      [
        [dirs[0], "Dummy.dummy", 10, 1, true, true],
        [dirs[1], "Dummy.dummy", 10, 1, true, true],
        // from_iteration 1 to 10, each 5: iterations 5 and 10 fail; the SLA allows 10%.
        [dirs[2], "Dummy.failure", 10, 0.8, false, true],
        // The workload's own plugin, loaded by Rally.
        [dirs[3], "Enos.steps", 10, 1, true, true],
      ],
    );
    const pluginRun = JSON.parse(fs.readFileSync(path.join(resultsDir, dirs[3], "results.json"), "utf8"));
    assert.deepEqual(
      pluginRun.tasks[0].subtasks[0].workloads[0].data[0].atomic_actions.map((a: { name: string }) => a.name),
      ["step_0", "step_1", "step_2"],
    );
    for (const row of summary())
      assert.ok(row.duration && row.duration.min <= row.duration.median && row.duration.p95 <= row.duration.max);
    assert.match(
      fs.readFileSync(path.join(resultsDir, "rally", "summary.md"), "utf8"),
      /\| failures \| concurrency=1 times=10 each=5 max_failure_percent=10 \| \d{8}T\d{6}Z \(current\) \| Dummy.failure \| 10 \| 80.0% \|/,
    );
  });

  test("re-up with no change runs nothing", async () => {
    const ops = await upWithOps(bench);
    assert.deepEqual([...new Set(ops.values())], ["same"]);
  });

  test("changing one entry's args re-runs only that entry (and the summary)", async () => {
    const runYml = path.join(workload, "run.yml");
    fs.writeFileSync(runYml, fs.readFileSync(runYml, "utf8").replace("each: 5", "each: 2"));
    const ops = await upWithOps(bench);
    assert.deepEqual(runsWith(ops, "create"), [
      "bench-run:rally/failures/concurrency-1_times-10_each-2_max_failure_percent-10",
    ]);
    assert.deepEqual(runsWith(ops, "delete"), [
      "bench-run:rally/failures/concurrency-1_times-10_each-5_max_failure_percent-10",
    ]);
    assert.deepEqual(runsWith(ops, "same").length, 3, "the other runs untouched");
    assert.equal(ops.get("bench-rally-summary"), "replace");
    assert.deepEqual(
      summary()
        .filter((r) => r.workload === "Dummy.failure")
        .map((r) => [r.dir.split("/")[2], r.successRate, r.current]),
      [
        // The run of the entry as it was stays, listed, no longer current.
        ["concurrency-1_times-10_each-2_max_failure_percent-10", 0.5, true],
        ["concurrency-1_times-10_each-5_max_failure_percent-10", 0.8, false],
      ],
      "every 2nd of 10 iterations fails",
    );
  });

  test("a changed task file re-runs the runs that use it; a new run id re-runs all", async () => {
    const sleepYml = path.join(workload, "sleep.yml");
    fs.writeFileSync(
      sleepYml,
      fs.readFileSync(sleepYml, "utf8").replace("max_seconds_per_iteration: 1", "max_seconds_per_iteration: 2"),
    );
    const changed = await upWithOps(bench);
    assert.deepEqual(
      runsWith(changed, "replace").map((n) => n.split("/")[1]),
      ["sleep", "sleep"],
    );
    await bench.setConfig(config({ bench_run_id: "second" }));
    const all = await upWithOps(bench);
    assert.equal(runsWith(all, "replace").length, 4);
    assert.equal(runsWith(all, "same").length, 0);
  });

  test("re-runs keep every earlier run; the summary lists them all, the latest of each entry current", () => {
    const runs = [
      ["rally/sleep/concurrency-1_times-10_sleep-0.01", 3],
      ["rally/sleep/concurrency-2_times-10_sleep-0.01", 3],
      ["rally/failures/concurrency-1_times-10_each-5_max_failure_percent-10", 1],
      ["rally/failures/concurrency-1_times-10_each-2_max_failure_percent-10", 2],
      ["rally/plugin-steps/concurrency-1_times-10_steps-3", 2],
    ] as const;
    for (const [entry, count] of runs) {
      const dirs = runsOf(entry);
      assert.equal(dirs.length, count, `${entry}: ${dirs.join(", ")}`);
      for (const dir of dirs)
        assert.ok(fs.existsSync(path.join(resultsDir, dir, "results.json")), `${dir}/results.json`);
      if (count > 1) assert.match(dirs[count - 1], /_second$/, "the run id names the latest run");
    }
    const rows = summary();
    assert.deepEqual(rows.map((r) => r.dir).sort(), runs.flatMap(([entry]) => runsOf(entry)).sort());
    assert.deepEqual(
      rows.filter((r) => r.current).map((r) => [r.dir.split("/").slice(1, 3).join("/"), r.stamp?.runId]),
      [
        ["sleep/concurrency-1_times-10_sleep-0.01", "second"],
        ["sleep/concurrency-2_times-10_sleep-0.01", "second"],
        ["failures/concurrency-1_times-10_each-2_max_failure_percent-10", "second"],
        ["plugin-steps/concurrency-1_times-10_steps-3", "second"],
      ],
    );
  });
});
