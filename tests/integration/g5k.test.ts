import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { resourcesOf } from "../../cli/context";
import { recoverInterruptedUpdate } from "../../cli/workspace";
import type { Host } from "../../config/types";
import { FakeG5k, type FakeG5kOptions, jobOutside } from "../fakes/g5k";
import { type MachineRoom, machineRoom } from "../fakes/g5k-room";
import { cleanUp, killUpdateWhen, recordOf, type TestExperiment, testExperiment } from "../support/harness";

/**
 * The g5k testbed through the Automation API against a stateful fake of the Grid'5000 API, whose
 * nodes are hosts of a local testbed (namespaces with their own sshd), named as on Grid'5000.
 */
const clusters = {
  paravance: { site: "rennes", nodes: 8 },
  parasilo: { site: "rennes", nodes: 8 },
  grisou: { site: "nancy", nodes: 4 },
};
const resources = { paravance: { control: 1, network: 1 }, parasilo: { compute: 2 }, grisou: { compute: 1 } };
/** The nodes the jobs get (OAR hands out the first free ones), each with a machine of its own. */
const nodes = [
  "paravance-1.rennes",
  "paravance-2.rennes",
  "parasilo-1.rennes",
  "parasilo-2.rennes",
  "grisou-1.nancy",
].map((n) => `${n}.grid5000.fr`);

type HostOutput = Host & { extra: { g5k_node: string } };

/** Jobs and deployments of both sites are made in parallel: compare them in site order. */
const bySite = <T extends { site: string }>(items: T[]) => [...items].sort((a, b) => a.site.localeCompare(b.site));

let room: MachineRoom;

let serial = 0;
/** A fake API and a stack using it; `run` gets both and everything is released and checked after. */
async function withG5k(
  options: Partial<FakeG5kOptions>,
  config: Record<string, unknown>,
  run: (fake: FakeG5k, g5k: TestExperiment) => Promise<void>,
) {
  const fake = new FakeG5k({ clusters, machines: room.machines, devices: ["eth0", "eth1"], ...options });
  const url = await fake.start();
  const { provider, ...rest } = config as { provider?: Record<string, unknown>; topology?: unknown };
  const g5k = await testExperiment(
    `tbg${process.pid}${serial++}`,
    {
      provider: {
        type: "g5k",
        api_url: url,
        poll_interval: 0.05,
        wait_timeout: 20,
        vlans: { rennes: "{type='kavlan'}/vlan=1" },
        ...provider,
      },
      ...(rest.topology ? {} : { resources }),
      g5k_username: "alice",
      ...rest,
    },
    undefined,
    { pulumiCommand: room.engine },
  );
  await g5k.stack.setConfig("enos:g5k_password", { value: "s3cret", secret: true });
  try {
    await run(fake, g5k);
  } finally {
    await cleanUp(g5k);
    await fake.stop(); // throws if a job is left open
  }
}

/** A command on a host of a g5k stack, through its ssh_config, resolving the fake names. */
const sshG5k = (g5k: TestExperiment, alias: string, command: string) =>
  room.dns.run("ssh", ["-F", path.join(g5k.stateDir, g5k.name, "ssh_config"), alias, command]);

describe("g5k testbed against a fake Grid'5000 API", { timeout: 900_000 }, () => {
  // The fake's kavlan ("4") names the nodes inside it.
  before(
    async () =>
      (room = await machineRoom(
        `tgm${process.pid}`,
        ["10.233.0.0/24", "10.234.0.0/24"],
        nodes.map((n) => [n]),
        "4",
      )),
  );
  after(async () => room.close());

  test("multi-site up: one deploy job per site, waited for, deployed; destroy deletes every job", () =>
    withG5k({ pollsBeforeRunning: 3 }, {}, async (fake, g5k) => {
      const up = await g5k.stack.up({ parallel: 64 });
      // Named after the stack: Enos' default name, shared by every experiment, could take another's job.
      const name = `enos-${g5k.name}`;
      assert.deepEqual(
        bySite(fake.jobs).map((j) => [j.site, j.resources, j.types, j.name]),
        [
          ["nancy", "{cluster='grisou'}/nodes=1,walltime=02:00:00", ["deploy"], name],
          [
            "rennes",
            "{cluster='paravance'}/nodes=2+{cluster='parasilo'}/nodes=2+{type='kavlan'}/vlan=1,walltime=02:00:00",
            ["deploy"],
            name,
          ],
        ],
      );
      assert.deepEqual(
        up.outputs.reservations.value,
        bySite(fake.jobs).map((j) => ({ reservation: `OAR job ${j.uid} on ${j.site}`, name, reused: false })),
      );
      assert.ok(
        fake.jobs.every((j) => j.polls >= 3),
        "each job was polled until it ran",
      );
      assert.deepEqual(
        bySite(fake.deployments).map((d) => [d.site, d.environment, d.vlan, d.nodes.length]),
        [
          ["nancy", "debian12-min", undefined, 1],
          ["rennes", "debian12-min", "4", 4],
        ],
      );
      assert.ok(
        fake.deployments.every((d) => /^ssh-ed25519 /.test(d.key ?? "")),
        "the stack's key is deployed",
      );
      const hosts: HostOutput[] = (await recordOf(g5k.stack)).hosts as HostOutput[];
      assert.deepEqual(
        hosts.map((h) => [h.alias, h.address, h.roles]),
        [
          ["control-1", "paravance-1-kavlan-4.rennes.grid5000.fr", ["control"]],
          ["network-1", "paravance-2-kavlan-4.rennes.grid5000.fr", ["network"]],
          ["compute-1", "parasilo-1-kavlan-4.rennes.grid5000.fr", ["compute"]],
          ["compute-2", "parasilo-2-kavlan-4.rennes.grid5000.fr", ["compute"]],
          ["compute-3", "grisou-1.nancy.grid5000.fr", ["compute"]],
        ],
      );
      // What the nodes were found to have over SSH, with the stack's key the deployment installed.
      const machine = (h: HostOutput) => room.hostOf[h.extra.g5k_node];
      for (const h of hosts) {
        assert.deepEqual(
          h.interfaces,
          { api: "eth0", external: "eth1" },
          `${h.alias}: the reference API's NICs, found on the node`,
        );
        assert.deepEqual(h.ips, machine(h).ips, `${h.alias}: the addresses the node really holds`);
        assert.deepEqual(h.kernel, machine(h).kernel, `${h.alias}: qdiscs probed on the node`);
      }
      assert.match(
        sshG5k(g5k, "control-1", "ip -o -4 addr show dev eth0"),
        new RegExp(`inet ${machine(hosts[0]).address.replace(/\./g, "\\.")}/`),
      );
      const vips = (await recordOf(g5k.stack)).network.vips;
      assert.deepEqual(
        [vips.internal.address, vips.registry.address],
        ["10.24.61.255", "10.24.61.254"],
        "Enos' VIPs: the end of the vlan's free range",
      );
      // The checkpoint on disk (exportStack would decrypt secrets for display).
      const checkpoint = fs.readFileSync(
        path.join(g5k.stateDir, ".pulumi", "stacks", "enos", `${g5k.name}.json`),
        "utf8",
      );
      assert.ok(
        checkpoint.includes("ciphertext") && !checkpoint.includes("s3cret"),
        "the password is only stored encrypted",
      );
      // Not even encrypted: the jobs and deployments read it at each call, as the OpenStack resources do.
      const exported = await g5k.stack.exportStack(); // secrets decrypted
      const keeping = (exported.deployment.resources as { urn: string }[]).filter(
        (r) => r.urn.includes("dynamic/enos:") && JSON.stringify(r).includes("s3cret"),
      );
      assert.deepEqual(
        keeping.map((r) => r.urn.split("::").pop()),
        [],
        "no resource of enos keeps the password",
      );

      const again = await g5k.stack.up({ parallel: 64 });
      assert.equal(again.summary.resourceChanges?.create, undefined, "a second up submits nothing");
      assert.equal(fake.jobs.length, 2);

      await g5k.stack.destroy({ parallel: 64 });
      assert.deepEqual(
        fake.jobs.map((j) => j.deleted),
        [true, true],
      );
      assert.deepEqual(fake.openJobs(), []);
    }));

  test("a job that reached its walltime is replaced; its nodes, deployed anew, are reached with their new host keys", () =>
    withG5k({}, { provider: { walltime: "00:30:00" } }, async (fake, g5k) => {
      await g5k.stack.up({ parallel: 64 });
      fake.expire(fake.jobs.find((j) => j.site === "rennes")!.uid);
      await g5k.stack.up({ parallel: 64 });
      assert.equal(fake.jobs.length, 3, "one new job for the site whose job ended");
      assert.deepEqual([fake.jobs[2].site, fake.jobs[2].state], ["rennes", "running"]);
      assert.equal(fake.deployments.length, 3, "its nodes deployed again");
      assert.equal((await recordOf(g5k.stack)).hosts.length, 5);
      const learnt = fs.readFileSync(path.join(g5k.stateDir, g5k.name, "known_hosts.learnt"), "utf8");
      const newKey = fs
        .readFileSync(
          path.join(room.machines["paravance-1.rennes.grid5000.fr"].dir, "ssh_host_ed25519_key.pub"),
          "utf8",
        )
        .split(" ")[1];
      assert.ok(learnt.includes(newKey), "the reinstalled node's new host key was learnt");
      assert.equal(sshG5k(g5k, "control-1", "echo reached").trim(), "reached");
    }));

  test("a job OAR puts in error fails the up with the job and what to do; destroy leaves nothing", () =>
    withG5k({ failState: "error" }, {}, async (fake, g5k) => {
      await assert.rejects(
        g5k.stack.up({ parallel: 64 }),
        /OAR job \d+ on (nancy|rennes) is error .*run up again to submit a new job, or destroy/s,
      );
      await g5k.stack.destroy({ parallel: 64 });
      assert.deepEqual(fake.openJobs(), []);
    }));

  test("an up killed while jobs wait: destroy still deletes them", () =>
    withG5k({ neverRun: true }, {}, async (fake, g5k) => {
      // Once both jobs have been polled while waiting.
      await killUpdateWhen(
        g5k.name,
        g5k.stack.up({ parallel: 64 }),
        () => fake.jobs.length === 2 && fake.jobs.every((j) => j.polls >= 2),
      );
      assert.equal(fake.openJobs().length, 2, "both jobs still open after the kill");
      await recoverInterruptedUpdate(g5k.stack, g5k.stateDir, true);
      const down = await g5k.stack.destroy({ parallel: 64 });
      assert.equal(down.summary.result, "succeeded");
      assert.deepEqual(
        fake.jobs.map((j) => j.deleted),
        [true, true],
      );
    }));

  /** Kills an up once every site's job is submitted, the fake holding its answer back; then answers at once. */
  async function killWhileSubmitting(fake: FakeG5k, g5k: TestExperiment) {
    await killUpdateWhen(g5k.name, g5k.stack.up({ parallel: 64 }), () => fake.jobs.length === 2);
    fake.options.submitDelayMs = 0;
  }

  test("an up killed while its jobs were being submitted: the next up finds them by name, submits none again", () =>
    withG5k({ submitDelayMs: 600_000 }, {}, async (fake, g5k) => {
      await killWhileSubmitting(fake, g5k);
      const settled = await recoverInterruptedUpdate(g5k.stack, g5k.stateDir);
      assert.deepEqual(
        settled.filter((s) => s.includes(" found ")).sort(),
        bySite(fake.jobs).map((j) => `testbed-job-${j.site} found (${j.site}/${j.uid}) and kept`),
      );
      const up = await g5k.stack.up({ parallel: 64 });
      assert.equal(up.summary.result, "succeeded");
      assert.equal(fake.jobs.length, 2, "one job per site, the ones submitted before the kill");
      assert.equal((await recordOf(g5k.stack)).hosts.length, 5);
      await g5k.stack.destroy({ parallel: 64 });
      assert.deepEqual(
        fake.jobs.map((j) => j.deleted),
        [true, true],
      );
    }));

  test("an up killed while its jobs were being submitted: destroy finds them by name and deletes them", () =>
    withG5k({ submitDelayMs: 600_000 }, {}, async (fake, g5k) => {
      await killWhileSubmitting(fake, g5k);
      await recoverInterruptedUpdate(g5k.stack, g5k.stateDir, true);
      const down = await g5k.stack.destroy({ parallel: 64 });
      assert.equal(down.summary.result, "succeeded");
      assert.equal(fake.jobs.length, 2);
      assert.deepEqual(
        fake.jobs.map((j) => j.deleted),
        [true, true],
      );
    }));

  const rennesResources =
    "{cluster='paravance'}/nodes=2+{cluster='parasilo'}/nodes=2+{type='kavlan'}/vlan=1,walltime=04:00:00";

  test("a running job with the experiment's name holding what it asks is reused, said so; destroy deletes it", () =>
    withG5k({}, { provider: { name: "myexp" } }, async (fake, g5k) => {
      const before = await jobOutside(fake, "rennes", "myexp", rennesResources);
      let output = "";
      const up = await g5k.stack.up({ parallel: 64, onOutput: (text) => (output += text) });
      assert.equal(fake.jobs.length, 2, "a job submitted for nancy only");
      assert.deepEqual(
        up.outputs.reservations.value.map((r: { reservation: string; reused: boolean }) => [r.reservation, r.reused]),
        [
          [`OAR job ${fake.jobs[1].uid} on nancy`, false],
          [`OAR job ${before.uid} on rennes`, true],
        ],
      );
      assert.match(
        output,
        new RegExp(`OAR job ${before.uid} on rennes \\(name myexp\\) reused: found open by its name`),
      );
      assert.deepEqual(
        bySite(fake.deployments).map((d) => [d.site, d.nodes]),
        [
          ["nancy", ["grisou-1.nancy.grid5000.fr"]],
          ["rennes", before.assigned_nodes],
        ],
        "the reused job's nodes are deployed",
      );
      assert.equal(sshG5k(g5k, "control-1", "echo reached").trim(), "reached");
      await g5k.stack.destroy({ parallel: 64 });
      assert.deepEqual(fake.openJobs(), [], "the reused job is the stack's: destroy deletes it");
    }));

  test("--force-deploy (the testbed's resources replaced, as the CLI asks): the same jobs' nodes deployed again", () =>
    withG5k({}, {}, async (fake, g5k) => {
      await g5k.stack.up({ parallel: 64 });
      const jobs = fake.jobs.map((j) => j.uid);
      const replace = await resourcesOf(g5k.stack, ["testbed"]);
      assert.ok(
        replace.some((urn) => urn.endsWith("::testbed-nodes-rennes")),
        "the nodes are replaced",
      );
      await g5k.stack.up({ parallel: 64, replace });
      assert.deepEqual(
        fake.jobs.map((j) => [j.uid, j.state]),
        jobs.map((uid) => [uid, "running"]),
        "no job deleted or submitted",
      );
      assert.equal(fake.deployments.length, 4, "each site's nodes deployed again");
      assert.equal(sshG5k(g5k, "control-1", "echo reached").trim(), "reached", "reached with the new host key");
      await g5k.stack.destroy({ parallel: 64 });
      assert.deepEqual(fake.openJobs(), []);
    }));

  test("strict: a node lost in deployment fails the up with the fix, naming the site's deployment", () =>
    withG5k({ koNodes: { rennes: 1 } }, {}, async (fake, g5k) => {
      // The site's nodes resource fails and is named (not an exception thrown inside an apply, which names none).
      await assert.rejects(
        g5k.stack.up({ parallel: 64 }),
        /G5kJobNodes \(testbed-nodes-rennes\):\s+error: deployment D-\d+ on rennes: Grid'5000 gave fewer nodes than asked \(paravance: 1 of 2\); set provider.role_distribution: debug/,
      );
      await g5k.stack.destroy({ parallel: 64 });
      assert.deepEqual(fake.openJobs(), []);
    }));

  test("unknown credentials: refused before any job is submitted", () =>
    withG5k({ password: "other" }, {}, async (fake, g5k) => {
      await assert.rejects(g5k.stack.up({ parallel: 64 }), /Grid'5000 API refused the credentials of alice \(401\)/);
      assert.equal(fake.jobs.length, 0);
    }));

  test("no KaVLAN on any site: refused before any job is submitted", () =>
    withG5k({}, { provider: { vlans: {} } }, async (fake, g5k) => {
      await assert.rejects(
        g5k.stack.up({ parallel: 64 }),
        /provider.vlans reserves no KaVLAN on the sites of your clusters \(nancy, rennes\)/,
      );
      assert.equal(fake.jobs.length, 0);
    }));

  test("debug distribution: roles share the nodes a deployment left", () =>
    withG5k({ koNodes: { rennes: 1 } }, { provider: { role_distribution: "debug" } }, async (fake, g5k) => {
      await g5k.stack.up({ parallel: 64 });
      const hosts: HostOutput[] = (await recordOf(g5k.stack)).hosts as HostOutput[];
      assert.equal(hosts.length, 5, "every slot has a host");
      const control = hosts.find((h) => h.alias === "control-1")!;
      const network = hosts.find((h) => h.alias === "network-1")!;
      assert.equal(control.address, network.address, "control and network share paravance's one deployed node");
      assert.equal(fake.deployments.length, 2);
    }));

  test("network emulation inside a KaVLAN shapes the addresses probed on the nodes (rate measured)", () =>
    withG5k(
      {},
      {
        topology: {
          grp1: { paravance: { control: 1, network: 1 } },
          grp2: { parasilo: { compute: 2 } },
          grp3: { grisou: { compute: 1 } },
        },
        // Rates only: this kernel has htb but no netem.
        network_constraints: {
          enable: true,
          default_delay: "0ms",
          default_rate: "40mbit",
          default_loss: "0%",
          constraints: [{ src: "grp1", dst: "grp2", rate: "10mbit" }],
        },
      },
      async (_fake, g5k) => {
        await g5k.stack.up({ parallel: 64 });
        const hosts: HostOutput[] = (await recordOf(g5k.stack)).hosts as HostOutput[];
        const [from, to] = [
          hosts.find((h) => h.roles.includes("control"))!,
          hosts.find((h) => h.groups.includes("grp2"))!,
        ];
        assert.match(to.address, /-kavlan-4\./);
        sshG5k(g5k, to.alias, `iperf3 -s -1 -D -B ${to.ips[0]} -p 5201 && sleep 0.3`);
        const report = JSON.parse(sshG5k(g5k, from.alias, `iperf3 -c ${to.ips[0]} -p 5201 -t 4 -O 1 -J`));
        // TCP goodput over 1500-byte frames carries 1448 of every 1514 bytes on the wire.
        const measured = (report.end.sum_received.bits_per_second * 1514) / 1448;
        assert.ok(
          Math.abs(measured - 10e6) / 10e6 <= 0.05,
          `grp1->grp2: asked 10 Mbit/s, measured ${(measured / 1e6).toFixed(2)} Mbit/s`,
        );
      },
    ));
});
