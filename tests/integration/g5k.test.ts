import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { recoverInterruptedUpdate } from "../../cli/workspace";
import { FakeG5k, FakeG5kOptions } from "../fakes/g5k";
import { TestExperiment, cleanUp, testExperiment } from "./harness";

/** The g5k testbed through the Automation API against a stateful fake of the Grid'5000 API. */
const clusters = { paravance: { site: "rennes", nodes: 8 }, parasilo: { site: "rennes", nodes: 8 }, grisou: { site: "nancy", nodes: 4 } };
const resources = { paravance: { control: 1, network: 1 }, parasilo: { compute: 2 }, grisou: { compute: 1 } };

interface HostOutput { alias: string; address: string; roles: string[]; interfaces: { api: string; external: string }; extra: { g5k_node: string } }

const pgrep = (args: string[]) => spawnSync("pgrep", args, { encoding: "utf8" }).stdout.split("\n").filter(Boolean);

/** Jobs and deployments of both sites are made in parallel: compare them in site order. */
const bySite = <T extends { site: string }>(items: T[]) => [...items].sort((a, b) => a.site.localeCompare(b.site));

let serial = 0;
/** A fake API and a stack using it; `run` gets both and everything is released and checked after. */
async function withG5k(options: Partial<FakeG5kOptions>, provider: Record<string, unknown>, run: (fake: FakeG5k, g5k: TestExperiment) => Promise<void>) {
  const fake = new FakeG5k({ clusters, ...options });
  const url = await fake.start();
  const g5k = await testExperiment(`tbg${process.pid}${serial++}`, {
    provider: { type: "g5k", api_url: url, poll_interval: 0.05, wait_timeout: 20, vlans: { rennes: "{type='kavlan'}/vlan=1" }, ...provider },
    resources,
    g5k_username: "alice",
  });
  await g5k.stack.setConfig("enos:g5k_password", { value: "s3cret", secret: true });
  try {
    await run(fake, g5k);
  } finally {
    await cleanUp(g5k);
    await fake.stop(); // throws if a job is left open
  }
}

describe("g5k testbed against a fake Grid'5000 API", { timeout: 600_000 }, () => {
  test("multi-site up: one deploy job per site, waited for, deployed; destroy deletes every job", () => withG5k({ pollsBeforeRunning: 3 }, {}, async (fake, g5k) => {
    const up = await g5k.stack.up({ parallel: 64 });
    assert.deepEqual(bySite(fake.jobs).map((j) => [j.site, j.resources, j.types, j.name]), [
      ["nancy", "{cluster='grisou'}/nodes=1,walltime=02:00:00", ["deploy"], "Enos"],
      ["rennes", "{cluster='paravance'}/nodes=2+{cluster='parasilo'}/nodes=2+{type='kavlan'}/vlan=1,walltime=02:00:00", ["deploy"], "Enos"],
    ]);
    assert.ok(fake.jobs.every((j) => j.polls >= 3), "each job was polled until it ran");
    assert.deepEqual(bySite(fake.deployments).map((d) => [d.site, d.environment, d.vlan, d.nodes.length]), [["nancy", "debian12-min", undefined, 1], ["rennes", "debian12-min", "4", 4]]);
    assert.ok(fake.deployments.every((d) => /^ssh-ed25519 /.test(d.key ?? "")), "the stack's key is deployed");
    const hosts: HostOutput[] = up.outputs.hosts.value;
    assert.deepEqual(hosts.map((h) => [h.alias, h.address, h.roles]), [
      ["control-1", "paravance-1-kavlan-4.rennes.grid5000.fr", ["control"]],
      ["network-1", "paravance-2-kavlan-4.rennes.grid5000.fr", ["network"]],
      ["compute-1", "parasilo-1-kavlan-4.rennes.grid5000.fr", ["compute"]],
      ["compute-2", "parasilo-2-kavlan-4.rennes.grid5000.fr", ["compute"]],
      ["compute-3", "grisou-1.nancy.grid5000.fr", ["compute"]],
    ]);
    assert.deepEqual(hosts[0].interfaces, { api: "eno1", external: "eno2" });
    assert.deepEqual(up.outputs.network.value.extraIps.slice(0, 2), ["10.24.26.0", "10.24.26.1"]);
    // The checkpoint on disk (exportStack would decrypt secrets for display).
    const checkpoint = fs.readFileSync(path.join(g5k.stateDir, ".pulumi", "stacks", "enos", `${g5k.name}.json`), "utf8");
    assert.ok(checkpoint.includes("ciphertext") && !checkpoint.includes("s3cret"), "the password is only stored encrypted");

    const again = await g5k.stack.up({ parallel: 64 });
    assert.equal(again.summary.resourceChanges?.create, undefined, "a second up submits nothing");
    assert.equal(fake.jobs.length, 2);

    await g5k.stack.destroy({ parallel: 64 });
    assert.deepEqual(fake.jobs.map((j) => j.deleted), [true, true]);
    assert.deepEqual(fake.openJobs(), []);
  }));

  test("a job that reached its walltime is replaced by a new one on the next up", () => withG5k({}, { walltime: "00:30:00" }, async (fake, g5k) => {
    await g5k.stack.up({ parallel: 64 });
    fake.expire(fake.jobs.find((j) => j.site === "rennes")!.uid);
    const up = await g5k.stack.up({ parallel: 64 });
    assert.equal(fake.jobs.length, 3, "one new job for the site whose job ended");
    assert.deepEqual([fake.jobs[2].site, fake.jobs[2].state], ["rennes", "running"]);
    assert.equal(up.outputs.hosts.value.length, 5);
  }));

  test("a job OAR puts in error fails the up with the job and what to do; destroy leaves nothing", () => withG5k({ failState: "error" }, {}, async (fake, g5k) => {
    await assert.rejects(g5k.stack.up({ parallel: 64 }), /OAR job \d+ on (nancy|rennes) is error .*run up again to submit a new job, or destroy/s);
    await g5k.stack.destroy({ parallel: 64 });
    assert.deepEqual(fake.openJobs(), []);
  }));

  test("an up killed while jobs wait: destroy still deletes them", () => withG5k({ neverRun: true }, {}, async (fake, g5k) => {
    let killed = false;
    const interrupted = g5k.stack.up({ parallel: 64 });
    // Kills this stack's engine (its pids only) once both jobs have been polled while waiting.
    const timer = setInterval(() => {
      if (killed || fake.jobs.length < 2 || !fake.jobs.every((j) => j.polls >= 2)) return;
      killed = true;
      // The engine and its plugin processes (a killed engine orphans them), all by pid.
      const engines = pgrep(["-f", `pulumi up .*--stack ${g5k.name}( |$)`]);
      const descendants = (pid: string): string[] => pgrep(["-P", pid]).flatMap((child) => [child, ...descendants(child)]);
      for (const pid of [...engines, ...engines.flatMap(descendants)]) process.kill(Number(pid), "SIGKILL");
    }, 100);
    await assert.rejects(interrupted);
    clearInterval(timer);
    assert.ok(killed, "the engine was killed while the jobs waited");
    assert.equal(fake.openJobs().length, 2, "both jobs still open after the kill");
    await recoverInterruptedUpdate(g5k.stack, g5k.stateDir, true);
    const down = await g5k.stack.destroy({ parallel: 64 });
    assert.equal(down.summary.result, "succeeded");
    assert.deepEqual(fake.jobs.map((j) => j.deleted), [true, true]);
  }));

  test("strict: a node lost in deployment fails the up with the fix", () => withG5k({ koNodes: { rennes: 1 } }, {}, async (fake, g5k) => {
    await assert.rejects(g5k.stack.up({ parallel: 64 }), /fewer nodes than asked \(paravance: 1 of 2\); set provider.role_distribution: debug/);
    await g5k.stack.destroy({ parallel: 64 });
    assert.deepEqual(fake.openJobs(), []);
  }));

  test("unknown credentials: refused before any job is submitted", () => withG5k({ password: "other" }, {}, async (fake, g5k) => {
    await assert.rejects(g5k.stack.up({ parallel: 64 }), /Grid'5000 API refused the credentials of alice \(401\)/);
    assert.equal(fake.jobs.length, 0);
  }));

  test("no KaVLAN on any site: refused before any job is submitted", () => withG5k({}, { vlans: {} }, async (fake, g5k) => {
    await assert.rejects(g5k.stack.up({ parallel: 64 }), /provider.vlans reserves no KaVLAN on the sites of your clusters \(nancy, rennes\)/);
    assert.equal(fake.jobs.length, 0);
  }));

  test("debug distribution: roles share the nodes a deployment left", () => withG5k({ koNodes: { rennes: 1 } }, { role_distribution: "debug" }, async (fake, g5k) => {
    const up = await g5k.stack.up({ parallel: 64 });
    const hosts: HostOutput[] = up.outputs.hosts.value;
    assert.equal(hosts.length, 5, "every slot has a host");
    const control = hosts.find((h) => h.alias === "control-1")!;
    const network = hosts.find((h) => h.alias === "network-1")!;
    assert.equal(control.address, network.address, "control and network share paravance's one deployed node");
    assert.equal(fake.deployments.length, 2);
  }));
});
