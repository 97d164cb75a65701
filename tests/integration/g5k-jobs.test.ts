import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { openStack } from "../../cli/workspace";
import { OarJob } from "../../providers/g5k/job";
import { JobNodes } from "../../providers/g5k/nodes";
import { FakeG5k, jobOutside } from "../fakes/g5k";
import { engineInOwnGroup, TEST_PASSPHRASE } from "../support/harness";

/**
 * A Grid'5000 job and its deployment through the engine against the fake API, without nodes to reach
 * (no namespace: it runs outside the integration lock). The stack holds these resources only; the
 * whole testbed is tests/integration/g5k.test.ts.
 */
let serial = 0;
const resources = "{cluster='paravance'}/nodes=2+{type='kavlan'}/vlan=1,walltime=01:00:00";

/** A stack of one job on rennes and its deployment, against a fake API; `run` gets both, all released after. */
async function withJob(
  run: (fake: FakeG5k, stack: Awaited<ReturnType<typeof openStack>>, credentialsFile: string) => Promise<void>,
) {
  const fake = new FakeG5k({ clusters: { paravance: { site: "rennes", nodes: 4 } } });
  const url = await fake.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbg5kjobs-"));
  const credentialsFile = path.join(dir, "python-grid5000.yaml");
  fs.writeFileSync(credentialsFile, "username: alice\npassword: s3cret\n");
  const program = async () => {
    const api = { url, credentialsFile };
    const job = new OarJob("job-rennes", {
      api,
      site: "rennes",
      name: "enos-exp",
      resources,
      clusters: { paravance: 2 },
      vlan: true,
      reservation: null,
    });
    const nodes = new JobNodes("nodes-rennes", {
      api,
      site: "rennes",
      uid: job.uid,
      envName: "debian12-min",
      publicKey: "ssh-ed25519 AAAA test",
      clusters: { paravance: 2 },
      distribution: "strict",
      pollSeconds: 0.05,
      waitSeconds: 20,
      reservation: null,
    });
    return { uid: job.uid, reused: job.reused, nodes: nodes.nodes };
  };
  const stack = await openStack(`tbgj${process.pid}${serial++}`, "enos", program, {
    stateDir: path.join(dir, "state"),
    workDir: dir,
    passphrase: TEST_PASSPHRASE,
    pulumiCommand: await engineInOwnGroup(),
  });
  try {
    await run(fake, stack, credentialsFile);
  } finally {
    await stack.destroy().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    await fake.stop(); // throws if a job is left open
  }
}

const jobBefore = (fake: FakeG5k, asked: string, waiting = false) =>
  jobOutside(fake, "rennes", "enos-exp", asked, waiting);

describe("g5k jobs through the engine, without nodes to reach", { timeout: 300_000 }, () => {
  test("credentials are read at each call: none kept in the state, a password changed in the file is used", () =>
    withJob(async (fake, stack, credentialsFile) => {
      const up = await stack.up();
      assert.deepEqual(up.outputs.nodes.value, ["paravance-1.rennes.grid5000.fr", "paravance-2.rennes.grid5000.fr"]);
      const exported = JSON.stringify(await stack.exportStack()); // secrets decrypted
      assert.ok(!exported.includes("s3cret"), "the password is not in the state, even encrypted");

      // The password changed on Grid'5000 and in the file: destroy reads the file again.
      fake.options.password = "n3w";
      fs.writeFileSync(credentialsFile, "username: alice\npassword: n3w\n");
      await stack.destroy();
      assert.deepEqual(fake.openJobs(), [], "the job deleted with the new password");
    }));

  test("an open job with the name: refused, named, left alone, unless it runs holding what is asked", () =>
    withJob(async (fake, stack) => {
      const other = await jobBefore(fake, resources.replace("nodes=2", "nodes=3"));
      const refusal = (uid: number, what: string) =>
        new RegExp(
          `OAR job ${uid} on rennes is named enos-exp like this experiment's job but ${what}.*` +
            `delete it \\(oardel ${uid} on the rennes frontend\\) or give this experiment another provider\\.name`,
        );
      await assert.rejects(
        stack.up(),
        refusal(other.uid, "holds paravance: 3 and a KaVLAN where it asks paravance: 2 and a KaVLAN; "),
      );
      fake.expire(other.uid);
      const waiting = await jobBefore(fake, resources, true);
      await assert.rejects(stack.up(), refusal(waiting.uid, "is waiting: what it holds is known once it runs"));
      assert.equal(fake.jobs.length, 2, "no job submitted");
      fake.expire(waiting.uid);

      const mine = await jobBefore(fake, resources);
      const up = await stack.up();
      assert.deepEqual([up.outputs.uid.value, up.outputs.reused.value], [mine.uid, true]);
      assert.deepEqual(
        fake.deployments.map((d) => d.nodes),
        [mine.assigned_nodes],
        "its nodes deployed",
      );
      assert.equal(fake.jobs.length, 3, "no job submitted");
      await stack.destroy();
      assert.deepEqual(fake.openJobs(), [], "the reused job is the stack's: destroy deletes it");
    }));
});
