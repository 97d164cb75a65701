import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { percentile, renderSummaryMarkdown, summarizeRun } from "../../../workloads/rally-summary";
import { FIXTURES } from "../../support/helpers";

/** A real report of Rally 5.1.1 (`rally task report --json`): two workloads, one with random failures. */
const report = JSON.parse(fs.readFileSync(path.join(FIXTURES, "rally", "two-workloads.json"), "utf8"));
const workloads = report.tasks[0].subtasks.map((s: { workloads: unknown[] }) => s.workloads[0]);
const run = { scenario: "two", args: { times: 20 }, dir: "rally/two/times-20" };

describe("Rally summary", () => {
  test("durations agree with Rally's own statistics (its 'duration' row, rounded to ms)", () => {
    const rows = summarizeRun(run, report);
    assert.equal(rows.length, 2);
    rows.forEach((row, i) => {
      const rally = workloads[i].statistics.durations.total.children.find(
        (c: { name: string }) => c.name === "duration",
      ).data;
      const round = (v: number) => Math.round(v * 1000) / 1000;
      assert.deepEqual([row.duration!.min, row.duration!.median, row.duration!.p95, row.duration!.max].map(round), [
        rally.min,
        rally.median,
        rally["95%ile"],
        rally.max,
      ]);
      assert.equal(row.iterations, rally.iteration_count);
      assert.equal(`${(row.successRate! * 100).toFixed(1)}%`, rally.success);
    });
  });

  test("a row per workload: its plugin, iterations, success rate and SLA verdict with the failed criteria", () => {
    const [actions, failures] = summarizeRun(run, report);
    assert.deepEqual(
      [actions.workload, actions.iterations, actions.successRate, actions.sla],
      ["Dummy.dummy_random_action", 20, 1, { passed: true, failures: [] }],
    );
    assert.deepEqual(
      [failures.workload, failures.iterations, failures.failed, failures.successRate],
      ["Dummy.dummy_random_fail_in_atomic", 20, 12, 0.4],
    );
    assert.deepEqual(failures.sla, {
      passed: false,
      failures: ["Failure rate criteria 0.00% <= 60.00% <= 1.00% - Failed"],
    });
    const markdown = renderSummaryMarkdown([actions, failures]);
    assert.match(
      markdown,
      /\| two \| times=20 \| - \| Dummy.dummy_random_fail_in_atomic \| 20 \| 40.0% \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| failed: Failure rate criteria/,
    );
    assert.match(markdown, /- two \(Dummy.dummy_random_action\): `rally\/two\/times-20`/);
  });

  test("percentiles interpolate between ranks, as Rally's do", () => {
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(percentile([1, 2, 3, 4, 5], 0.5), 3);
    assert.ok(Math.abs(percentile([0, 10], 0.95) - 9.5) < 1e-12);
  });

  test("a task that ran no iteration has no durations and no success rate", () => {
    const empty = structuredClone(report);
    Object.assign(empty.tasks[0].subtasks[0].workloads[0], {
      data: [],
      total_iteration_count: 0,
      failed_iteration_count: 0,
    });
    const [row] = summarizeRun(run, empty);
    assert.deepEqual([row.duration, row.successRate], [null, null]);
    assert.match(renderSummaryMarkdown([row]), /\| 0 \| n\/a \| n\/a \| n\/a \| n\/a \| n\/a \|/);
  });
});
