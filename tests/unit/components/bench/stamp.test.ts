import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { type Conditions, runName, type Stamp, stampRun } from "../../../../components/bench/stamp";
import type { BenchRun } from "../../../../workloads/expand";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-stamp-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const run: BenchRun = { type: "rally", name: "sleep", file: "sleep.yml", args: { times: 10 }, plugin: null };
const base = path.join(dir, "results", "rally", "sleep", "times-10");
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
};
const conditionsFile = (c: Conditions) => write(path.join(dir, "results", "conditions.json"), JSON.stringify(c));
const stampOf = (runDir: string): Stamp => JSON.parse(fs.readFileSync(path.join(runDir, "stamp.json"), "utf8"));
const at = new Date("2026-12-07T05:15:00.250Z");

describe("a run's own directory and stamp", () => {
  test("named by its UTC start and run id; a repetition in the same second gets the next second", () => {
    assert.equal(runName(at, null), "20261207T051500Z");
    assert.equal(runName(at, "campaign 2/a"), "20261207T051500Z_campaign-2-a");
    const conditions = conditionsFile({ configuration: "c".repeat(64), openstack: null, network: null });
    const request = { conditions, base, run, runId: "r1", fingerprint: "f".repeat(64) };
    const first = stampRun(request, at);
    fs.writeFileSync(path.join(first, "results.json"), "{}");
    const second = stampRun(request, at);
    assert.deepEqual(
      [first, second].map((d) => path.relative(base, d)),
      ["20261207T051500Z_r1", "20261207T051501Z_r1"],
    );
    assert.equal(fs.readFileSync(path.join(first, "results.json"), "utf8"), "{}", "the earlier run is kept");
    assert.deepEqual(stampOf(second), {
      run,
      runId: "r1",
      // Its true start; only its directory's name is a second on.
      started: "2026-12-07T05:15:00Z",
      fingerprint: "f".repeat(64),
      configuration: "c".repeat(64),
      openstack: null,
      network: null,
    });
  });

  test("Kolla's release and globals.yml's hash; the tc report it is measured under, copied beside it", () => {
    const globalsText = "---\nopenstack_release: '2025.1'\nkolla_internal_vip_address: 10.0.0.250\n";
    const globals = write(path.join(dir, "kolla", "globals.yml"), globalsText);
    const reportDir = path.join(dir, "results", "tc");
    write(path.join(reportDir, "report.json"), '{"pairs": 2}');
    write(path.join(reportDir, "report.md"), "# tc report\n");
    const conditions = conditionsFile({
      configuration: "c".repeat(64),
      openstack: { source: "kolla-ansible", globals },
      network: { plan: "p".repeat(12), reportDir },
    });
    const runDir = stampRun({ conditions, base, run, runId: null, fingerprint: "f" }, new Date("2026-12-07T06:00:00Z"));
    assert.equal(path.basename(runDir), "20261207T060000Z");
    const stamp = stampOf(runDir);
    assert.deepEqual(stamp.openstack, {
      source: "kolla-ansible",
      release: "2025.1",
      globalsSha256: createHash("sha256").update(globalsText).digest("hex"),
    });
    assert.deepEqual(stamp.network, { plan: "p".repeat(12), report: "tc-report.json" });
    // The report as it was then: a later tc test overwrites results/<stack>/tc, not this copy.
    fs.writeFileSync(path.join(reportDir, "report.json"), '{"pairs": 3}');
    assert.equal(fs.readFileSync(path.join(runDir, "tc-report.json"), "utf8"), '{"pairs": 2}');
    assert.equal(fs.readFileSync(path.join(runDir, "tc-report.md"), "utf8"), "# tc report\n");
  });

  test("network emulation without its test: the plan, no report", () => {
    const conditions = conditionsFile({
      configuration: "c",
      openstack: null,
      network: { plan: "p", reportDir: null },
    });
    const runDir = stampRun({ conditions, base, run, runId: null, fingerprint: "f" }, new Date("2026-12-07T07:00:00Z"));
    assert.deepEqual(stampOf(runDir).network, { plan: "p", report: null });
    assert.equal(fs.existsSync(path.join(runDir, "tc-report.json")), false);
  });
});
