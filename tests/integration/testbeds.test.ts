import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import type { Stack } from "@pulumi/pulumi/automation";
import { recoverInterruptedUpdate } from "../../cli/workspace";
import {
  cleanUp,
  killEngine,
  leftovers,
  recordOf,
  sshdProcesses,
  sshRun,
  type TestExperiment,
  testExperiment,
} from "../support/harness";

interface HostOutput {
  alias: string;
  address: string;
  roles: string[];
  groups: string[];
}

const provider = { type: "local", api_cidr: "10.241.0.0/24", external_cidr: "10.242.0.0/24" };
const withComputes = (n: number) => ({ provider, resources: { control: 1, network: 1, compute: n } });

async function hostsOf(stack: Stack): Promise<HostOutput[]> {
  return (await recordOf(stack)).hosts;
}

describe("local testbed lifecycle on real namespaces and sshd", { timeout: 600_000 }, () => {
  let local: TestExperiment;
  let firstAddresses: Map<string, string>;
  before(async () => {
    local = await testExperiment(`it${process.pid}l`, withComputes(2));
  });
  after(async () => cleanUp(local));

  test("up: every host answers over ssh from its own namespace", async () => {
    const up = await local.stack.up({ parallel: 64 });
    assert.equal(up.summary.resourceChanges?.create, 11, "stack, experiment, testbed, key, bridges, 4 hosts, 2 files");
    const hosts: HostOutput[] = (await recordOf(local.stack)).hosts;
    assert.deepEqual(
      hosts.map((h) => h.alias),
      ["control-1", "network-1", "compute-1", "compute-2"],
    );
    const rootAddresses = execFileSync("ip", ["-o", "-4", "addr"], { encoding: "utf8" });
    for (const host of hosts) {
      const seen = sshRun(up.outputs.sshConfig.value, host.alias, "ip -o -4 addr show");
      assert.match(
        seen,
        new RegExp(`eth0\\s+inet ${host.address.replace(/\./g, "\\.")}/24`),
        `${host.alias} holds its address`,
      );
      assert.ok(!rootAddresses.includes(`${host.address}/`), `${host.address} is not in the root namespace`);
      const others = hosts.filter((h) => h !== host).map((h) => `${h.address}/`);
      assert.ok(
        others.every((a) => !seen.includes(a)),
        `${host.alias} sees no other host's address`,
      );
    }
    firstAddresses = new Map(hosts.map((h) => [h.alias, h.address]));
  });

  test("a second up with no change changes nothing and restarts nothing", async () => {
    const before = sshdProcesses(local.stateDir);
    assert.equal(before.length, 4);
    const up = await local.stack.up({ parallel: 64 });
    assert.deepEqual(up.summary.resourceChanges, { same: 11 });
    assert.deepEqual(sshdProcesses(local.stateDir), before, "same sshd processes");
  });

  test("4 -> 5 hosts adds exactly one host; the others keep their addresses", async () => {
    await local.setConfig(withComputes(3));
    const up = await local.stack.up({ parallel: 64 });
    assert.equal(up.summary.resourceChanges?.create, 1);
    assert.equal(up.summary.resourceChanges?.delete, undefined);
    const hosts = await hostsOf(local.stack);
    assert.equal(hosts.length, 5);
    for (const [alias, address] of firstAddresses) assert.equal(hosts.find((h) => h.alias === alias)?.address, address);
    assert.match(sshRun(up.outputs.sshConfig.value, "compute-3", "hostname -I"), /10\.241\.0\./);
  });

  test("5 -> 4 hosts removes exactly one host and its namespace", async () => {
    await local.setConfig(withComputes(2));
    const up = await local.stack.up({ parallel: 64 });
    assert.equal(up.summary.resourceChanges?.delete, 1);
    assert.equal(up.summary.resourceChanges?.create, undefined);
    assert.equal((await hostsOf(local.stack)).length, 4);
    assert.ok(!leftovers(local.name, local.stateDir).includes(`netns enos-${local.name}-compute-3`));
  });

  test("static testbed on hosts the test made: comes up, eths by name or by CIDR", async () => {
    const keyfile = `${local.stateDir}/${local.name}/id_ed25519`;
    const hosts = await hostsOf(local.stack);
    const host = (alias: string) => ({
      address: hosts.find((h) => h.alias === alias)!.address,
      alias: `s-${alias}`,
      user: "root",
      keyfile,
    });
    const network = {
      extra_ips: ["10.241.0.240", "10.241.0.241", "10.241.0.242", "10.241.0.243", "10.241.0.244"],
      start: "10.242.0.100",
      end: "10.242.0.200",
      cidr: "10.242.0.0/24",
      gateway: "10.242.0.1",
      dns: "10.242.0.1",
    };
    const staticStack = await testExperiment(`it${process.pid}s`, {
      provider: { type: "static", network, eths: ["10.241.0.0/24", "eth1"] },
      resources: {
        control: host("control-1"),
        network: host("network-1"),
        compute: [host("compute-1"), host("compute-2")],
      },
    });
    try {
      const up = await staticStack.stack.up({ parallel: 64 });
      const statics: HostOutput[] = (await recordOf(staticStack.stack)).hosts;
      assert.deepEqual(
        statics.map((h) => [h.alias, h.roles]),
        [
          ["s-control-1", ["control"]],
          ["s-network-1", ["network"]],
          ["s-compute-1", ["compute"]],
          ["s-compute-2", ["compute"]],
        ],
      );
      assert.match(sshRun(up.outputs.sshConfig.value, "s-compute-2", "ip -o -4 addr show eth0"), /10\.241\.0\./);
      const destroyed = await staticStack.stack.destroy();
      assert.equal(destroyed.summary.result, "succeeded");
      assert.match(
        sshRun(`${local.stateDir}/${local.name}/ssh_config`, "control-1", "echo still here"),
        /still here/,
        "destroying a static stack releases nothing",
      );
    } finally {
      await cleanUp(staticStack);
    }
  });

  test("static testbed with an unreachable host: one clear error, nothing left in the stack", async () => {
    const keyfile = `${local.stateDir}/${local.name}/id_ed25519`;
    const good = (await hostsOf(local.stack))[0];
    const network = {
      extra_ips: ["10.241.0.240", "10.241.0.241", "10.241.0.242", "10.241.0.243", "10.241.0.244"],
      start: "10.242.0.100",
      end: "10.242.0.200",
      cidr: "10.242.0.0/24",
      gateway: "10.242.0.1",
      dns: "10.242.0.1",
    };
    const broken = await testExperiment(`it${process.pid}b`, {
      provider: { type: "static", network, eths: ["eth0", "eth9"] },
      resources: {
        control: { address: good.address, alias: "fine", user: "root", keyfile },
        network: { address: good.address, alias: "fine", user: "root", keyfile },
        compute: { address: "10.241.0.199", alias: "ghost", user: "root", keyfile },
      },
    });
    try {
      await assert.rejects(broken.stack.up(), (error: Error) => {
        assert.match(error.message, /2 of 2 host\(s\) cannot be used/);
        assert.match(error.message, /ghost \(10\.241\.0\.199\): unreachable over SSH/);
        assert.match(error.message, /fine \(10\.241\.0\.\d+\): no interface eth9/);
        return true;
      });
      const state = await broken.stack.exportStack();
      const kept = (state.deployment.resources ?? []).filter(
        (r: { type: string }) => !r.type.startsWith("pulumi:") && !r.type.startsWith("enos:"),
      );
      assert.deepEqual(kept, [], "no custom resource was recorded");
    } finally {
      await cleanUp(broken);
    }
  });

  test("destroy leaves no namespace, link, sshd process or key file", async () => {
    assert.ok(leftovers(local.name, local.stateDir).length > 0, "the check sees the running testbed");
    const down = await local.stack.destroy({ parallel: 64 });
    assert.equal(down.summary.result, "succeeded");
    assert.deepEqual(leftovers(local.name, local.stateDir), []);
  });
});

/** Starts an up and kills the engine (SIGKILL) once the first host exists, while others are being made. */
async function killMidUp(local: TestExperiment): Promise<void> {
  let killed = false;
  const interrupted = local.stack.up({
    parallel: 4,
    onEvent: (event) => {
      if (!killed && event.resOutputsEvent?.metadata.type.endsWith("LocalHost")) {
        killed = true;
        // The engine with its whole session: its dynamic providers must not outlive it (the file's
        // end-of-file check failed on them when only the engine was killed).
        void killEngine(local.name);
      }
    },
  });
  await assert.rejects(interrupted);
  assert.ok(killed, "the engine was killed mid-update");
}

/** A stack of 8 local hosts whose first up was killed mid-way; removed whatever the check does. */
async function afterKilledUp(suffix: string, check: (local: TestExperiment) => Promise<void>): Promise<void> {
  const local = await testExperiment(`it${process.pid}${suffix}`, {
    provider,
    resources: { control: 1, network: 1, compute: 6 },
  });
  try {
    await killMidUp(local);
    await check(local);
  } finally {
    await cleanUp(local);
  }
}

describe("an up killed in the middle", { timeout: 600_000 }, () => {
  test("a following up converges without duplicates, destroy leaves nothing", () =>
    afterKilledUp("k", async (local) => {
      const pending = await recoverInterruptedUpdate(local.stack, local.stateDir);
      assert.ok(
        pending.some((p) => p.startsWith("stale lock")),
        `the killed engine's lock is removed: ${pending}`,
      );
      const up = await local.stack.up({ parallel: 64 });
      assert.equal(up.summary.result, "succeeded");
      const hosts = await hostsOf(local.stack);
      assert.equal(hosts.length, 8);
      assert.equal(new Set(hosts.map((h) => h.address)).size, 8, "no two hosts share an address");
      const namespaces = leftovers(local.name, local.stateDir).filter((l) => l.startsWith("netns"));
      assert.equal(namespaces.length, 8, `one namespace per host (was pending: ${pending.join(", ")})`);
      for (const host of hosts) assert.match(sshRun(up.outputs.sshConfig.value, host.alias, "echo ok"), /ok/);

      await local.stack.destroy({ parallel: 64 });
      assert.deepEqual(leftovers(local.name, local.stateDir), []);
    }));

  test("a preview right after releases the half-made hosts; a destroy after it leaves nothing", () =>
    afterKilledUp("p", async (local) => {
      const settled = await recoverInterruptedUpdate(local.stack, local.stateDir);
      const released = settled.filter((s) => s.endsWith(" released"));
      assert.ok(
        released.some((s) => /^testbed-(control|network|compute)-\d+ released$/.test(s)),
        `hosts in flight were released: ${settled.join(", ")}`,
      );
      // Every namespace left belongs to a host the state holds: none of a host in flight survives.
      const state = (await local.stack.exportStack()).deployment.resources as { type: string }[];
      const namespaces = leftovers(local.name, local.stateDir).filter((l) => l.startsWith("netns"));
      assert.equal(namespaces.length, state.filter((r) => r.type.endsWith("LocalHost")).length, namespaces.join(", "));
      await local.stack.preview({ parallel: 64 });
      const down = await local.stack.destroy({ parallel: 64 });
      assert.equal(down.summary.result, "succeeded");
      assert.deepEqual(leftovers(local.name, local.stateDir), []);
    }));

  test("a destroy right after releases what the creates in flight had made", () =>
    afterKilledUp("d", async (local) => {
      const settled = await recoverInterruptedUpdate(local.stack, local.stateDir, true);
      assert.ok(
        settled.some((s) => s.startsWith("creating of")),
        `creates were in flight: ${settled.join(", ")}`,
      );
      const down = await local.stack.destroy({ parallel: 64 });
      assert.equal(down.summary.result, "succeeded");
      assert.deepEqual(leftovers(local.name, local.stateDir), []);
    }));
});
