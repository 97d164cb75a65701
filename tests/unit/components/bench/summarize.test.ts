import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import type { Stamp } from "../../../../components/bench/stamp";
import { writeSummary } from "../../../../components/bench/summarize";
import type { SummaryRow } from "../../../../workloads/rally-summary";
import { FIXTURES } from "../../../support/helpers";

const results = fs.mkdtempSync(path.join(os.tmpdir(), "enos-summary-"));
after(() => fs.rmSync(results, { recursive: true, force: true }));

/** A real report of Rally 5.1.1: two workloads. */
const report = fs.readFileSync(path.join(FIXTURES, "rally", "two-workloads.json"), "utf8");

/** A run directory as a run script leaves it: stamp.json, and results.json unless Rally failed. */
function runDir(entry: string, name: string, stamp: Partial<Stamp>, withResults = true): string {
  const dir = path.join(results, "rally", entry, name);
  fs.mkdirSync(dir, { recursive: true });
  const full: Stamp = {
    run: { type: "rally", name: entry.split("/")[0], file: "t.yml", args: { times: 20 }, plugin: null },
    runId: null,
    started: "2026-12-07T05:00:00Z",
    fingerprint: "f",
    configuration: "c".repeat(64),
    openstack: null,
    network: null,
    ...stamp,
  };
  fs.writeFileSync(path.join(dir, "stamp.json"), JSON.stringify(full));
  if (withResults) fs.writeFileSync(path.join(dir, "results.json"), report);
  return dir;
}

describe("the Rally summary lists every run", () => {
  test("earlier runs, the current one marked, each with what it ran under; failed runs named", () => {
    const first = runDir("two/times-20", "20261207T050000Z_a", { runId: "a" });
    const current = runDir("two/times-20", "20261207T060000Z_b", {
      runId: "b",
      openstack: { source: "kolla-ansible", release: "2025.1", globalsSha256: "9".repeat(64) },
      network: { plan: "0123456789abcdef", report: "tc-report.json" },
    });
    runDir("two/times-20", "20261207T070000Z_b", {}, false);
    // An entry run.yml no longer has: listed after the workload's, though its name sorts first.
    const gone = runDir("gone/times-20", "20261207T040000Z", {});
    // Rally's own files beside the runs are no runs.
    fs.writeFileSync(path.join(results, "rally", "rally.conf"), "");
    const md = writeSummary({ resultsDir: results, current: [current] });
    const rows: SummaryRow[] = JSON.parse(fs.readFileSync(path.join(results, "rally", "summary.json"), "utf8"));
    assert.deepEqual(
      rows.map((r) => [r.dir, r.workload, r.current, r.stamp?.runId]),
      [
        [path.relative(results, first), "Dummy.dummy_random_action", false, "a"],
        [path.relative(results, first), "Dummy.dummy_random_fail_in_atomic", false, "a"],
        [path.relative(results, current), "Dummy.dummy_random_action", true, "b"],
        [path.relative(results, current), "Dummy.dummy_random_fail_in_atomic", true, "b"],
        [path.relative(results, gone), "Dummy.dummy_random_action", false, null],
        [path.relative(results, gone), "Dummy.dummy_random_fail_in_atomic", false, null],
      ],
    );
    const text = fs.readFileSync(md, "utf8");
    assert.match(text, /\| two \| times=20 \| 20261207T050000Z_a \| Dummy.dummy_random_action \|/);
    assert.match(text, /\| two \| times=20 \| 20261207T060000Z_b \(current\) \| Dummy.dummy_random_action \|/);
    assert.match(
      text,
      new RegExp(
        "`rally/two/times-20/20261207T060000Z_b` — kolla-ansible 2025.1, globals.yml 999999999999; " +
          "configuration cccccccccccc; tc plan 0123456789ab, measured: `tc-report.json`",
      ),
    );
    assert.match(text, /`rally\/two\/times-20\/20261207T050000Z_a` — no OpenStack; .*; no network emulation/);
    assert.match(text, /Runs without results \(see their rally.log\):\n\n- `rally\/two\/times-20\/20261207T070000Z_b`/);
  });
});
