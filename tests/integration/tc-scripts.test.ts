import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { after, before, describe, test } from "node:test";
import type { HostPlan } from "../../components/tc/plan";
import { renderApplyScript, renderResetScript } from "../../components/tc/render";
import { localNames } from "../../providers/local/plan";
import { cleanUp, type TestExperiment, testExperiment } from "../support/harness";

// The tc phase's scripts run for real, the way the phase runs them (a shell reading the script on
// stdin), in a namespace of this file's (enos-rf-tc) holding two veths, as root and as two users of
// this file's: one with passwordless sudo (as Debian's cloud images' and Chameleon's users have), one
// without. sudo comes from scripts/setup.
const NS = "enos-rf-tc";
const SUDOER = "enosrfsudo";
const NO_SUDO = "enosrfnosudo";
const SUDOERS_FILE = `/etc/sudoers.d/${SUDOER}`;

const sh = (script: string) => {
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  assert.equal(result.status, 0, `${script}\n${result.stderr}`);
  return result.stdout;
};

/** Runs a rendered script in the namespace as `user`, on stdin; its status and stderr. */
function runAs(user: string, script: string) {
  const login = user === "root" ? ["bash", "-s"] : ["runuser", "-u", user, "--", "bash", "-s"];
  const result = spawnSync("ip", ["netns", "exec", NS, ...login], { input: script, encoding: "utf8" });
  return { status: result.status, stderr: result.stderr };
}

const roots = () =>
  sh(`ip netns exec ${NS} tc qdisc show`)
    .split("\n")
    .filter((l) => / root /.test(l) && /^qdisc htb/.test(l));

const plan = (devices: string[]): HostPlan => ({
  alias: "h",
  devices,
  rules: [{ dst: "other", ips: ["10.195.0.2"], delay: "0ms", rate: "10mbit", loss: "0%" }],
});

describe("tc scripts fail on their first failure, and get root through sudo", { timeout: 60_000 }, () => {
  before(() => {
    assert.ok(fs.existsSync("/usr/bin/sudo"), "sudo is installed by scripts/setup");
    // A password of "*": no password login, but not a locked account (sshd refuses those).
    sh(`ip netns add ${NS}
      ip -n ${NS} link add eth0 type veth peer name eth1
      ip -n ${NS} link set eth0 up && ip -n ${NS} link set eth1 up
      for u in ${SUDOER} ${NO_SUDO}; do id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/bash -p '*' "$u"; done
      echo '${SUDOER} ALL=(root) NOPASSWD: ALL' > ${SUDOERS_FILE} && chmod 440 ${SUDOERS_FILE}`);
  });
  after(() => {
    spawnSync("bash", ["-c", `ip netns del ${NS}; rm -f ${SUDOERS_FILE}; userdel ${SUDOER}; userdel ${NO_SUDO}`]);
  });

  test("the tc phase on local hosts whose SSH user is not root but has passwordless sudo", {
    timeout: 300_000,
  }, async () => {
    // Subnets 10.193/10.194 are this file's.
    const provider = { type: "local", api_cidr: "10.193.0.0/24", external_cidr: "10.194.0.0/24", user: SUDOER };
    const topology = { grp1: { default: { control: 1, network: 1 } }, grp2: { default: { compute: 1 } } };
    let local: TestExperiment | undefined;
    try {
      local = await testExperiment(`rf${process.pid}s`, {
        provider,
        topology,
        network_constraints: { enable: true, default_delay: "0ms", default_rate: "20mbit", default_loss: "0%" },
      });
      await local.stack.up({ parallel: 64 });
      const ns = `${localNames(local.name).namespacePrefix}grp1-control-1`;
      assert.match(
        sh(`ip netns exec ${ns} tc class show dev eth0`),
        /rate 20Mbit/,
        "the rules were applied through sudo",
      );
      assert.match(fs.readFileSync(`${local.stateDir}/${local.name}/ssh_config`, "utf8"), new RegExp(`User ${SUDOER}`));
    } finally {
      if (local) await cleanUp(local);
    }
  });

  test("a batch that fails on the first device fails the script, though the second device's succeeds", () => {
    const { status, stderr } = runAs("root", renderApplyScript(plan(["eth9", "eth0"])));
    assert.notEqual(status, 0, "the failure of eth9's batch is not masked by eth0's success");
    assert.match(stderr, /eth9/);
  });

  test("as root: apply puts an htb root on each device, a re-apply swaps it, reset removes it, a second reset is fine", () => {
    const devices = ["eth0", "eth1"];
    assert.equal(runAs("root", renderApplyScript(plan(devices))).status, 0);
    assert.equal(roots().length, 2);
    assert.equal(runAs("root", renderApplyScript(plan(devices))).status, 0);
    assert.deepEqual(
      roots().map((l) => l.split(" ")[2]),
      ["2:", "2:"],
      "the re-apply built its tree under the other handle",
    );
    for (let i = 0; i < 2; i++) {
      const reset = runAs("root", renderResetScript({ devices }));
      assert.equal(reset.status, 0, reset.stderr);
      assert.deepEqual(roots(), []);
    }
  });

  test("as a user with passwordless sudo: apply and reset work through sudo -n", () => {
    const apply = runAs(SUDOER, renderApplyScript(plan(["eth0"])));
    assert.equal(apply.status, 0, apply.stderr);
    assert.equal(roots().length, 1);
    const reset = runAs(SUDOER, renderResetScript({ devices: ["eth0"] }));
    assert.equal(reset.status, 0, reset.stderr);
    assert.deepEqual(roots(), []);
  });

  test("as a user without sudo: apply and reset fail, naming the user and the fix, and the rules stay as they were", () => {
    assert.equal(runAs("root", renderApplyScript(plan(["eth0"]))).status, 0);
    for (const script of [renderApplyScript(plan(["eth0"])), renderResetScript({ devices: ["eth0"] })]) {
      const { status, stderr } = runAs(NO_SUDO, script);
      assert.notEqual(status, 0);
      assert.match(
        stderr,
        new RegExp(
          `needs root on .*user ${NO_SUDO} cannot sudo without a password \\(sudo -n\\); log in as root or give ${NO_SUDO} passwordless sudo`,
        ),
      );
    }
    assert.equal(roots().length, 1, "the reset did not pretend to succeed");
    assert.equal(runAs("root", renderResetScript({ devices: ["eth0"] })).status, 0);
  });
});
