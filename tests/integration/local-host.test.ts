import * as assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { iperf } from "../../components/tc/measure";
import { hostProvider, type LocalHostInputs, type LocalHostOutputs } from "../../providers/local/host";

// The local testbed's host provider called directly (no engine): what a failed create and a delete
// leave on this machine, right when they return. Subnets 10.191/10.192 and names erfh* are this file's.
const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" });
/** A process of this file's, found by its exact command line. */
const SLEEPER = "sleep 600.191";
const BRIDGES = { apiBridge: "erfha", externalBridge: "erfhx" };

/** Namespaces, links and processes of this file's hosts still on the machine. */
function leftovers(namespace: string): string[] {
  const sleepers = spawnSync("pgrep", ["-af", `^${SLEEPER}$`], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean);
  const namespaces = sh("ip netns list | awk '{print $1}'")
    .split("\n")
    .filter((n) => n === namespace);
  const links = sh("ip -o link show | awk -F': ' '{print $2}'")
    .split("\n")
    .map((l) => l.split("@")[0])
    .filter((l) => l.startsWith("erfhv"));
  // pgrep run directly: a shell running it would match itself.
  const sshd = spawnSync("pgrep", ["-af", "sshd -f /tmp/enos-local-host-"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean);
  return [
    ...namespaces.map((n) => `netns ${n}`),
    ...links.map((l) => `link ${l}`),
    ...[...sshd, ...sleepers].map((p) => `process ${p}`),
  ];
}

describe("local testbed hosts leave nothing behind", { timeout: 120_000 }, () => {
  let dir: string;
  let inputs: LocalHostInputs;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-local-host-"));
    sh(`ssh-keygen -q -t ed25519 -N '' -f '${dir}/key'
      for b in ${BRIDGES.apiBridge}:10.191.0.1/24 ${BRIDGES.externalBridge}:10.192.0.1/24; do
        ip link add "\${b%%:*}" type bridge && ip addr add "\${b#*:}" dev "\${b%%:*}" && ip link set "\${b%%:*}" up
      done`);
    inputs = {
      alias: "h1",
      namespace: "enos-review-fixes-h1",
      dir,
      apiCidr: "10.191.0.0/24",
      externalCidr: "10.192.0.0/24",
      ...BRIDGES,
      vethPrefix: "erfhv",
      authorizedKey: fs.readFileSync(`${dir}/key.pub`, "utf8").trim(),
    };
  });

  after(() => {
    sh(`pgrep -fx '${SLEEPER}' | xargs -r kill -9
      ip netns pids ${inputs.namespace} 2>/dev/null | xargs -r kill -9; ip netns del ${inputs.namespace} 2>/dev/null || true
      for l in ${BRIDGES.apiBridge} ${BRIDGES.externalBridge} erfhv0a erfhv0x; do ip link del "$l" 2>/dev/null || true; done`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a create that fails half-way (no such bridge) removes its namespace, veths, sshd and slot", async () => {
    await assert.rejects(hostProvider.create!({ ...inputs, externalBridge: "erfhnone" }), /erfhnone/);
    assert.deepEqual(leftovers(inputs.namespace), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, "slots")), [], "the slot is released");
  });

  test("delete returns once the namespace, its veths and its processes are gone, even one that ignores SIGTERM", async () => {
    const { outs } = await hostProvider.create!(inputs);
    assert.ok(
      leftovers(inputs.namespace).some((l) => l.startsWith("process")),
      "the host's sshd runs",
    );
    // A process that outlives the polite kill keeps the namespace, and so its veths, alive.
    spawn("ip", ["netns", "exec", inputs.namespace, "bash", "-c", `trap '' TERM; exec ${SLEEPER}`], {
      stdio: "ignore",
      detached: true,
    }).unref();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await hostProvider.delete!(inputs.namespace, outs);
    assert.deepEqual(leftovers(inputs.namespace), []);
  });

  test("an iperf3 server does not outlive a client that failed", async () => {
    const { outs } = await hostProvider.create!(inputs);
    const host = outs as LocalHostOutputs;
    try {
      const sshConfig = path.join(dir, "ssh_config");
      fs.writeFileSync(
        sshConfig,
        [
          `Host h1\n  HostName ${host.address}`,
          // The client's host: its address is this file's API bridge, where no sshd listens.
          "Host nowhere\n  HostName 10.191.0.1\n  ConnectTimeout 5",
          `Host *\n  User root\n  IdentityFile ${dir}/key\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n`,
        ].join("\n"),
      );
      await assert.rejects(
        iperf(sshConfig, { alias: "nowhere" }, { alias: "h1", address: host.address }, 1),
        /nowhere|10\.191\.0\.1/,
      );
      const processes = sh(`for p in $(ip netns pids ${inputs.namespace}); do cat /proc/$p/comm; done`)
        .split("\n")
        .filter(Boolean);
      assert.ok(processes.includes("sshd"), "the host still runs");
      assert.ok(!processes.includes("iperf3"), `no iperf3 server left: ${processes.join(", ")}`);
    } finally {
      await hostProvider.delete!(inputs.namespace, host);
    }
  });
});
