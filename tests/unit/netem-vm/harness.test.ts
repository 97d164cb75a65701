import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { vmDeadline, vmImage } from "../../netem-vm/harness";

test("the netem VM image comes from scripts/setup's cache; a test never builds it", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "enos-no-vm-"));
  try {
    assert.throws(() => vmImage(empty), /the netem VM image is not in .*netem-vm: run scripts\/setup/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test("the VM's deadline follows the work asked: probes, pairs, rate pairs, hosts", () => {
  const base = { hosts: 4, pairs: 12, probes: 200, ratePairs: 0 };
  const deadline = vmDeadline(base);
  assert.ok(deadline >= 60 + 3 * 4, `a boot allowance and three times the nominal probing time: ${deadline}`);
  for (const more of [{ probes: 1000 }, { pairs: 30 }, { ratePairs: 4 }, { hosts: 10 }]) {
    assert.ok(vmDeadline({ ...base, ...more }) > deadline, JSON.stringify(more));
  }
});
