import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { bootVm, measureInVm, type VmOptions, type VmRun, vmImage } from "../netem-vm/harness";

// This machine's kernel has no netem: delay and loss are measured in a VM booted from Debian's kernel.
const topology = { grp1: { default: { control: 1, network: 1 } }, "grp[2-4]": { default: { compute: 1 } } };
/** Runs a config in the VM with a report directory of its own, removed afterwards. */
async function inVm(config: Record<string, unknown>, options: VmOptions, check: (run: VmRun, dir: string) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-vm-report-"));
  try {
    check(await measureInVm(config, dir, options), dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function verdict(run: VmRun, src: string, dst: string) {
  const v = run.verdicts.find((x) => x.src === src && x.dst === dst);
  assert.ok(v, `${src}->${dst} measured`);
  return v;
}

function assertAllPass(run: VmRun, t: { diagnostic(message: string): void }) {
  for (const v of run.verdicts) {
    t.diagnostic(
      `${v.src}->${v.dst}: RTT asked ${v.rtt.asked}, measured ${v.rtt.measured}; loss asked ${v.loss.asked}, measured ${v.loss.measured}${v.rate ? `; rate ${v.rate.measured}` : ""}`,
    );
    assert.ok(v.rtt.ok, `${v.src}->${v.dst} RTT: ${JSON.stringify(v.rtt)}`);
    assert.ok(v.loss.ok, `${v.src}->${v.dst} loss: ${JSON.stringify(v.loss)}`);
    if (v.rate) assert.ok(v.rate.ok, `${v.src}->${v.dst} rate: ${JSON.stringify(v.rate)}`);
  }
}

describe("delay and loss measured in a netem VM", { timeout: 900_000 }, () => {
  test("a VM that outlives its deadline is stopped, and says it timed out after how long", async () => {
    await assert.rejects(bootVm(vmImage(), "sleep 600\n", 15), /the VM timed out after 15 s/);
  });

  test("the seed's first example: grp1 to the others 20 ms RTT, between grp2..grp4 50 ms", (t) =>
    inVm(
      {
        topology,
        network_constraints: {
          enable: true,
          default_delay: "25ms",
          default_rate: "100mbit",
          default_loss: "0.1%",
          constraints: [{ src: "grp1", dst: "grp[2-4]", delay: "10ms", rate: "1gbit", loss: "0%", symetric: true }],
        },
      },
      {},
      (run, dir) => {
        assert.equal(verdict(run, "grp1", "grp2").rtt.asked, "20.00 ms");
        assert.equal(verdict(run, "grp2", "grp3").rtt.asked, "50.00 ms");
        assertAllPass(run, t);
        const report = fs.readFileSync(path.join(dir, "report.md"), "utf8");
        assert.match(report, /12 of 12 group pairs pass/);
        assert.match(report, /±\(1 ms \+ 5%\)/, "the report states the RTT tolerance");
        t.diagnostic(`VM run: ${run.seconds.toFixed(1)} s`);
      },
    ));

  test("a one-way override: RTT is that delay plus the default of the way back; a low rate holds too", (t) =>
    inVm(
      {
        topology,
        network_constraints: {
          // A low rate: under software emulation, iperf3 itself costs CPU that a higher rate would miss.
          // Delays of 10 ms and more: software emulation adds 0.5 to 1.4 ms to a round trip.
          enable: true,
          default_delay: "10ms",
          default_rate: "2mbit",
          default_loss: "0%",
          constraints: [{ src: "grp1", dst: "grp2", delay: "30ms" }],
        },
      },
      { rates: true },
      (run) => {
        assert.equal(verdict(run, "grp1", "grp2").rtt.asked, "40.00 ms");
        assert.equal(verdict(run, "grp2", "grp1").rtt.asked, "40.00 ms");
        assert.equal(verdict(run, "grp1", "grp3").rtt.asked, "20.00 ms");
        assertAllPass(run, t);
      },
    ));

  test("loss of a few percent lands in its 99% interval", (t) =>
    inVm(
      {
        topology: { grp1: { default: { control: 1, network: 1 } }, "grp[2-3]": { default: { compute: 1 } } },
        network_constraints: {
          enable: true,
          default_delay: "2ms",
          default_rate: "8mbit",
          default_loss: "0%",
          constraints: [{ src: "grp2", dst: "grp3", loss: "3%", symmetric: true }],
        },
      },
      { probes: 500 },
      (run) => {
        assert.equal(verdict(run, "grp2", "grp3").loss.asked, "5.91% round trip");
        // Loss is what this test is about; its 2 ms delays sit close to the emulator's own jitter.
        for (const v of run.verdicts) {
          t.diagnostic(
            `${v.src}->${v.dst}: loss asked ${v.loss.asked}, measured ${v.loss.measured}; RTT ${v.rtt.measured}`,
          );
          assert.ok(v.loss.ok, `${v.src}->${v.dst} loss: ${JSON.stringify(v.loss)}`);
        }
      },
    ));

  test("accurate mode: half of each pair's base RTT comes off each direction, and the asked delays land", (t) =>
    inVm(
      {
        topology,
        network_constraints: {
          enable: true,
          accurate: true,
          default_delay: "25ms",
          default_rate: "100mbit",
          default_loss: "0%",
          constraints: [{ src: "grp1", dst: "grp[2-4]", delay: "10ms", symetric: true }],
        },
      },
      {},
      (run) => {
        for (const applied of run.appliedRules) {
          const base = run.baseRttMs![`${applied.src}>${applied.dst}`];
          const asked = run.groupRules.find((r) => r.src === applied.src && r.dst === applied.dst)!;
          t.diagnostic(
            `${applied.src}->${applied.dst}: base RTT ${base} ms, asked ${asked.delay}, applied ${applied.delay}`,
          );
          assert.ok(base > 0);
          assert.equal(applied.delay, `${Math.round(parseFloat(asked.delay) * 1000 - (base * 1000) / 2)}us`);
        }
        assertAllPass(run, t);
      },
    ));
});
