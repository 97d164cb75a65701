import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { openStack } from "../../cli/workspace";
import { Benchmark } from "../../components/benchmark";
import { PROJECT_DIR } from "../../config/paths";
import type { SummaryRow } from "../../workloads/rally-summary";
import { readWorkload } from "../../workloads/run-file";
import { engineInOwnGroup, TEST_PASSPHRASE } from "../support/harness";

/**
 * The benchmark phase alone (no testbed: no namespace, bridge or fixed port, so no integration lock),
 * through the real engine and command plugin with the real Rally: a Dummy run, then the same again
 * under another enos:bench_run_id. A campaign's repetitions are its measurements: both stay.
 */
describe("two runs of the Dummy Rally workload keep both", { timeout: 600_000 }, () => {
  let dir: string;
  let stack: Stack;
  const entry = "rally/sleep/concurrency-1_times-2_sleep-0.01";

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-bench-runs-"));
    const workload = path.join(dir, "workload");
    fs.mkdirSync(workload);
    fs.copyFileSync(path.join(PROJECT_DIR, "workloads", "dummy", "sleep.yml"), path.join(workload, "sleep.yml"));
    fs.writeFileSync(
      path.join(workload, "run.yml"),
      "rally:\n  args: {concurrency: 1, times: 2}\n  scenarios:\n    - {name: sleep, file: sleep.yml, args: {sleep: 0.01}}\n",
    );
    const program = async () => {
      const bench = new Benchmark("benchmark", {
        workload: readWorkload(workload),
        resultsDir: path.join(dir, "results"),
        runId: new pulumi.Config("enos").get("bench_run_id"),
        conditions: { configuration: "c".repeat(64), openstack: null },
      });
      return { summary: bench.summary };
    };
    stack = await openStack(`br${process.pid}`, "enos", program, {
      pulumiCommand: await engineInOwnGroup(),
      stateDir: path.join(dir, "state"),
      workDir: dir,
      passphrase: TEST_PASSPHRASE,
    });
  });
  after(async () => {
    await stack?.destroy({ parallel: 8 }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("each run in its own directory, named by its start and run id; the summary lists both", async () => {
    await stack.up({ parallel: 8 });
    await stack.setConfig("enos:bench_run_id", { value: "second" });
    await stack.up({ parallel: 8 });
    const entryDir = path.join(dir, "results", entry);
    const runs = fs.readdirSync(entryDir).sort();
    assert.equal(runs.length, 2, `${entryDir} holds ${runs.join(", ")}`);
    assert.match(runs[0], /^\d{8}T\d{6}Z$/);
    assert.match(runs[1], /^\d{8}T\d{6}Z_second$/);
    for (const run of runs) {
      const results = JSON.parse(fs.readFileSync(path.join(entryDir, run, "results.json"), "utf8"));
      assert.equal(results.tasks[0].status, "finished", run);
      const stamp = JSON.parse(fs.readFileSync(path.join(entryDir, run, "stamp.json"), "utf8"));
      assert.equal(stamp.runId, run.endsWith("_second") ? "second" : null);
    }
    const rows: SummaryRow[] = JSON.parse(fs.readFileSync(path.join(dir, "results", "rally", "summary.json"), "utf8"));
    assert.deepEqual(
      rows.map((r) => [r.dir, r.iterations, r.current]),
      [
        [path.join(entry, runs[0]), 2, false],
        [path.join(entry, runs[1]), 2, true],
      ],
    );
  });
});
