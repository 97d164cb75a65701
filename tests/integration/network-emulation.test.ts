import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanUp, clearInState, recordOf, sshRun, type TestExperiment, testExperiment } from "../support/harness";

const provider = { type: "local", api_cidr: "10.243.0.0/24", external_cidr: "10.244.0.0/24" };
const topology = { grp1: { default: { control: 1, network: 1 } }, "grp[2-3]": { default: { compute: 1 } } };
/** Rates only: this kernel has htb but no netem. */
const rates = (grp1ToGrp2: string) => ({
  enable: true,
  default_delay: "0ms",
  default_rate: "40mbit",
  default_loss: "0%",
  constraints: [{ src: "grp1", dst: "grp2", rate: grp1ToGrp2 }],
});

interface HostOutput {
  alias: string;
  address: string;
  keyfile?: string;
  groups: string[];
  ips: string[];
  kernel: { netem: boolean };
}

/**
 * TCP goodput over 1500-byte frames carries 1448 of every 1514 bytes on the wire (Ethernet + IP + TCP with timestamps).
 */
const WIRE_PER_GOODPUT = 1514 / 1448;

/** iperf3 from one host to another; the receiver's rate, corrected to what the wire carried (bit/s). */
function measureRate(sshConfig: string, from: string, to: HostOutput): number {
  sshRun(sshConfig, to.alias, `iperf3 -s -1 -D -B ${to.address} -p 5201 && sleep 0.3`);
  const report = JSON.parse(sshRun(sshConfig, from, `iperf3 -c ${to.address} -p 5201 -t 4 -O 1 -J`));
  return report.end.sum_received.bits_per_second * WIRE_PER_GOODPUT;
}

const qdiscs = (sshConfig: string, alias: string) =>
  sshRun(sshConfig, alias, "tc qdisc show dev eth0; tc qdisc show dev eth1");

describe("network emulation on the local testbed (rates, measured)", { timeout: 600_000 }, () => {
  let local: TestExperiment;
  let hosts: HostOutput[];
  let sshConfig: string;
  let untouched: Map<string, string>;
  let vip: string;

  before(async () => {
    // The testbed first, without constraints, to record each interface as it was.
    local = await testExperiment(`it${process.pid}t`, { provider, topology });
    const up = await local.stack.up({ parallel: 64 });
    const record = await recordOf(local.stack);
    hosts = record.hosts;
    sshConfig = up.outputs.sshConfig.value;
    untouched = new Map(hosts.map((h) => [h.alias, qdiscs(sshConfig, h.alias)]));
    // Kolla's internal VIP on grp1's control host, as keepalived puts it there after the hosts were probed.
    vip = record.network.vips.internal.address;
    sshRun(sshConfig, host("grp1").alias, `ip addr add ${vip}/32 dev eth0`);
  });
  after(async () => cleanUp(local));

  const host = (group: string) => hosts.find((h) => h.groups.includes(group) && !h.alias.includes("network"))!;

  test("delay on a kernel without netem: one error naming every host, and no host touched", async () => {
    await local.setConfig({ provider, topology, network_constraints: { ...rates("10mbit"), default_delay: "5ms" } });
    await assert.rejects(local.stack.up({ parallel: 64 }), (error: Error) => {
      for (const h of hosts)
        assert.match(error.message, new RegExp(`${h.alias} lacks sch_netem \\(netem: delay and loss\\)`));
      assert.match(error.message, /no host was changed/);
      return true;
    });
    for (const h of hosts) assert.equal(qdiscs(sshConfig, h.alias), untouched.get(h.alias), `${h.alias} untouched`);
  });

  test("asked rates are what iperf3 measures, within 5%", async () => {
    await local.setConfig({ provider, topology, network_constraints: rates("10mbit") });
    const up = await local.stack.up({ parallel: 64 });
    assert.equal(up.summary.result, "succeeded");
    const slow = measureRate(sshConfig, host("grp1").alias, host("grp2"));
    const fast = measureRate(sshConfig, host("grp1").alias, host("grp3"));
    const back = measureRate(sshConfig, host("grp2").alias, host("grp1"));
    const toVip = measureRate(sshConfig, host("grp2").alias, { ...host("grp1"), address: vip });
    for (const [asked, measured, pair] of [
      [10e6, slow, "grp1->grp2"],
      [40e6, fast, "grp1->grp3"],
      [40e6, back, "grp2->grp1"],
      [40e6, toVip, "grp2->VIP on grp1"],
    ] as const) {
      assert.ok(
        Math.abs(measured - asked) / asked <= 0.05,
        `${pair}: asked ${asked / 1e6} Mbit/s, measured ${(measured / 1e6).toFixed(2)} Mbit/s`,
      );
    }
  });

  test("the SSH key the tc commands log in with is encrypted in the state", () => {
    const keyfile = hosts[0].keyfile!;
    const key = fs.readFileSync(keyfile, "utf8").split("\n");
    assert.ok(key.length > 3, `${keyfile} is a private key`);
    assert.equal(fs.statSync(keyfile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(keyfile)).mode & 0o777, 0o700, "the stack's directory: its owner's only");
    // Any line of the key's body would do: its second one.
    assert.deepEqual(clearInState(local, key[1]), []);
  });

  test("network_constraints.test measures every group pair and writes the report", async (t) => {
    await local.setConfig({ provider, topology, network_constraints: { ...rates("10mbit"), test: true } });
    const up = await local.stack.up({ parallel: 64 });
    assert.equal(up.summary.resourceChanges?.create, 1, "only the test command is new");
    const dir = path.join(local.dir, "results", local.name, "tc");
    const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8"));
    assert.equal(report.verdicts.length, 6, "3 groups: 6 ordered pairs");
    for (const v of report.verdicts) {
      t.diagnostic(
        `${v.src}->${v.dst}: rate ${v.rate.asked} vs ${v.rate.measured}; rtt ${v.rtt.measured}; loss ${v.loss.measured}`,
      );
      assert.ok(v.rate.ok && v.rtt.ok && v.loss.ok, JSON.stringify(v));
    }
    assert.match(fs.readFileSync(path.join(dir, "report.md"), "utf8"), /6 of 6 group pairs pass/);
    const control = host("grp1");
    assert.deepEqual(
      report.shaped[control.alias],
      [...control.ips, `${vip} (vip)`],
      "the VIP the control host holds is shaped, and named",
    );
    assert.match(
      fs.readFileSync(path.join(dir, "report.md"), "utf8"),
      new RegExp(`## Shaped addresses[\\s\\S]*- ${control.alias}: .*${vip} \\(vip\\)`),
    );
    assert.deepEqual(
      [...fs.readFileSync(path.join(dir, "report.png")).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""),
      "PNG",
    );
    await local.setConfig({ provider, topology, network_constraints: rates("10mbit") });
    const again = await local.stack.up({ parallel: 64 });
    assert.equal(again.summary.resourceChanges?.delete, 1, "turning the test off removes only its command");
  });

  test("delay and loss, measured where the kernel has netem", async (t) => {
    if (!hosts.every((h) => h.kernel.netem)) {
      t.skip(
        `this machine's kernel (${os.release()}) has no sch_netem: delay and loss rules cannot be applied here; their tc commands are checked by the unit tests`,
      );
      return;
    }
    await local.setConfig({
      provider,
      topology,
      network_constraints: {
        enable: true,
        default_delay: "5ms",
        default_rate: "40mbit",
        default_loss: "0%",
        test: true,
        constraints: [
          { src: "grp1", dst: "grp2", delay: "20ms" },
          { src: "grp2", dst: "grp3", loss: "3%", symmetric: true },
        ],
      },
    });
    await local.stack.up({ parallel: 64 });
    const report = JSON.parse(
      fs.readFileSync(path.join(local.dir, "results", local.name, "tc", "report.json"), "utf8"),
    );
    for (const v of report.verdicts) assert.ok(v.rtt.ok && v.loss.ok && v.rate.ok, JSON.stringify(v));
    await local.setConfig({ provider, topology, network_constraints: rates("10mbit") });
    await local.stack.up({ parallel: 64 });
  });

  test("re-up with no change runs nothing; one changed constraint re-runs only its source hosts", async () => {
    const same = await local.stack.up({ parallel: 64 });
    assert.equal(same.summary.resourceChanges?.update, undefined);
    assert.equal(same.summary.resourceChanges?.create, undefined);
    await local.setConfig({ provider, topology, network_constraints: rates("20mbit") });
    const changed = await local.stack.up({ parallel: 64 });
    const grp1Hosts = hosts.filter((h) => h.groups.includes("grp1")).length;
    assert.equal(changed.summary.resourceChanges?.update, grp1Hosts, "only grp1's hosts have new rules");
    assert.match(
      qdiscs(sshConfig, host("grp1").alias),
      /qdisc htb 2: root/,
      "the new tree was swapped in under the other root handle",
    );
    const measured = measureRate(sshConfig, host("grp1").alias, host("grp2"));
    assert.ok(Math.abs(measured - 20e6) / 20e6 <= 0.05, `measured ${(measured / 1e6).toFixed(2)} Mbit/s`);
  });

  test("enable: false restores every interface as it was", async () => {
    await local.setConfig({ provider, topology, network_constraints: { ...rates("20mbit"), enable: false } });
    await local.stack.up({ parallel: 64 });
    for (const h of hosts) assert.equal(qdiscs(sshConfig, h.alias), untouched.get(h.alias), `${h.alias} as before`);
  });

  test("removing the phase (destroying its commands) restores every interface too", async () => {
    await local.setConfig({ provider, topology, network_constraints: rates("10mbit") });
    await local.stack.up({ parallel: 64 });
    assert.match(qdiscs(sshConfig, host("grp2").alias), /htb/);
    await local.setConfig({ provider, topology });
    await local.stack.up({ parallel: 64 });
    for (const h of hosts) assert.equal(qdiscs(sshConfig, h.alias), untouched.get(h.alias), `${h.alias} as before`);
  });

  test("accurate mode: a host whose rules cannot be reset stops the base RTT before any ping, named", async () => {
    // Not the sample host of its group: the pings alone would not notice it.
    const victim = "grp1-network-1";
    const sshd = path.join(local.stateDir, local.name, "local", "hosts", victim, "sshd.pid");
    process.kill(Number(fs.readFileSync(sshd, "utf8").trim()));
    await local.setConfig({ provider, topology, network_constraints: { ...rates("10mbit"), accurate: true } });
    await assert.rejects(local.stack.up({ parallel: 64 }), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(
          `base RTT: resetting the tc rules of ${victim} failed \\(exit 255\\): ` +
            "its rules may still be there, so nothing was measured; its output:\n  .*Connection refused",
        ),
      );
      return true;
    });
    for (const h of hosts.filter((h) => h.alias !== victim)) {
      assert.equal(qdiscs(sshConfig, h.alias), untouched.get(h.alias), `${h.alias}: no rule applied`);
    }
  });
});
