import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { openStack } from "../../cli/workspace";
import { OarJob } from "../../providers/g5k/job";
import { JobNodes } from "../../providers/g5k/nodes";
import { FakeG5k } from "../fakes/g5k";
import { engineInOwnGroup, TEST_PASSPHRASE } from "./harness";

/**
 * A Grid'5000 job and its deployment through the engine against the fake API, without nodes to reach
 * (no namespace: it runs outside the integration lock). The stack holds these resources only; the
 * whole testbed is tests/integration/g5k.test.ts.
 */
test("g5k credentials are read at each call: none kept in the state, a password changed in the file is used", async () => {
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
      name: "enos-creds",
      resources: "{cluster='paravance'}/nodes=2+{type='kavlan'}/vlan=1,walltime=01:00:00",
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
    return { nodes: nodes.nodes };
  };
  const stack = await openStack(`tbgj${process.pid}`, "enos", program, {
    stateDir: path.join(dir, "state"),
    workDir: dir,
    passphrase: TEST_PASSPHRASE,
    pulumiCommand: await engineInOwnGroup(),
  });
  try {
    const up = await stack.up();
    assert.deepEqual(up.outputs.nodes.value, ["paravance-1.rennes.grid5000.fr", "paravance-2.rennes.grid5000.fr"]);
    const exported = JSON.stringify(await stack.exportStack()); // secrets decrypted
    assert.ok(!exported.includes("s3cret"), "the password is not in the state, even encrypted");

    // The password changed on Grid'5000 and in the file: destroy reads the file again.
    fake.options.password = "n3w";
    fs.writeFileSync(credentialsFile, "username: alice\npassword: n3w\n");
    await stack.destroy();
    assert.deepEqual(fake.openJobs(), [], "the job deleted with the new password");
  } finally {
    await stack.destroy().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    await fake.stop(); // throws if a job is left open
  }
});
