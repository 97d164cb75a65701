import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { openStack, recoverInterruptedUpdate } from "../../cli/workspace";
import { blazarCall, type LeaseView } from "../../providers/chameleon/api";
import { BlazarLease, LeaseReady } from "../../providers/chameleon/lease";
import { leaseEnd, leaseReservations } from "../../providers/chameleon/plan";
import { keystoneSession, serviceEndpoint } from "../../providers/openstack/api";
import { FakeBlazar, type FakeBlazarOptions } from "../fakes/blazar";
import { engineInOwnGroup, killUpdateWhen, TEST_PASSPHRASE } from "../support/harness";

/**
 * Chameleon's Blazar lease through the engine against a fake Keystone + Blazar. The instances need
 * an OpenStack cloud, so the stack holds the lease resources only (the graph with instances is
 * checked under mocks in tests/unit/providers/openstack/index.test.ts).
 */
const demands = [
  { bucket: "compute_skylake", role: "control", count: 1 },
  { bucket: "compute_skylake", role: "network", count: 1 },
  { bucket: "storage", role: "compute", count: 2 },
];

let serial = 0;
async function withLease(
  options: Partial<FakeBlazarOptions>,
  run: (
    fake: FakeBlazar,
    stack: Awaited<ReturnType<typeof openStack>>,
    name: string,
    stateDir: string,
  ) => Promise<void>,
) {
  const fake = new FakeBlazar({ hosts: { compute_skylake: 4, storage: 2 }, ...options });
  const authUrl = await fake.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbcham-"));
  const name = `tbc${process.pid}${serial++}`;
  const stateDir = path.join(dir, "state");
  const program = async () => {
    // Which cloud, user and project; the password is the stack's openstack:password (set below), read at each call.
    const auth = {
      authUrl,
      username: "alice",
      projectName: "CH-0001",
      userDomainName: "Default",
      projectDomainName: "Default",
    };
    const lease = new BlazarLease("lease", {
      auth,
      name: "enos-lease",
      walltime: "02:00:00",
      reservations: leaseReservations(demands),
    });
    const ready = new LeaseReady("lease-ready", {
      auth,
      leaseId: lease.leaseId,
      nodeTypes: ["compute_skylake", "storage"],
      pollSeconds: 0.05,
      waitSeconds: 20,
    });
    return { leaseId: lease.leaseId, endDate: lease.endDate, reused: lease.reused, reservations: ready.reservations };
  };
  const stack = await openStack(name, "enos", program, {
    stateDir,
    workDir: dir,
    passphrase: TEST_PASSPHRASE,
    pulumiCommand: await engineInOwnGroup(),
  });
  // No openrc of the machine's own: only the credentials a test gives.
  for (const key of Object.keys(process.env).filter((k) => k.startsWith("OS_"))) stack.workspace.envVars[key] = "";
  await stack.setAllConfig({
    "openstack:authUrl": { value: authUrl },
    "openstack:userName": { value: "alice" },
    "openstack:tenantName": { value: "CH-0001" },
    "openstack:password": { value: "s3cret", secret: true },
  });
  try {
    await run(fake, stack, name, stateDir);
  } finally {
    await stack.destroy().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    await fake.stop(); // throws if a lease is left open
  }
}

/** Blazar, as the project's user reaches it through Keystone (for leases made outside the stack). */
async function blazarOf(fake: FakeBlazar) {
  const session = await keystoneSession({
    authUrl: `${fake.url}/identity`,
    username: "alice",
    password: "s3cret",
    projectName: "CH-0001",
    userDomainName: "Default",
    projectDomainName: "Default",
  });
  return { session, endpoint: serviceEndpoint(session, "reservation", "Blazar") };
}

/** A lease named enos-lease made outside the stack (an earlier run, by hand) for `asked`. */
async function leaseBefore(fake: FakeBlazar, asked: typeof demands): Promise<LeaseView> {
  const made = await blazarCall<{ lease: LeaseView }>(await blazarOf(fake), "POST", "leases", {
    name: "enos-lease",
    start_date: "now",
    end_date: leaseEnd(new Date(), "02:00:00"),
    reservations: leaseReservations(asked),
    events: [],
  });
  return made!.lease;
}

describe("chameleonbaremetal: Blazar lease against a fake Keystone + Blazar", { timeout: 300_000 }, () => {
  test("one physical:host reservation per node type, waited ACTIVE; destroy deletes the lease", () =>
    withLease({ pollsBeforeActive: 3 }, async (fake, stack, name, stateDir) => {
      const up = await stack.up();
      assert.equal(fake.leases.length, 1);
      const [lease] = fake.leases;
      assert.equal(lease.name, "enos-lease");
      assert.deepEqual(
        lease.reservations.map((r) => [r.resource_type, r.min, r.max, r.resource_properties]),
        [
          ["physical:host", 2, 2, '["==","$node_type","compute_skylake"]'],
          ["physical:host", 2, 2, '["==","$node_type","storage"]'],
        ],
      );
      assert.ok(lease.polls >= 3);
      const minutes = (Date.parse(`${lease.end_date}Z`) - Date.now()) / 60_000;
      assert.ok(minutes > 110 && minutes <= 121, `the lease ends after its walltime (${minutes} min)`);
      assert.deepEqual(up.outputs.reservations.value, {
        compute_skylake: lease.reservations[0].id,
        storage: lease.reservations[1].id,
      });
      const checkpoint = fs.readFileSync(path.join(stateDir, ".pulumi", "stacks", "enos", `${name}.json`), "utf8");
      assert.ok(
        checkpoint.includes("ciphertext") && !checkpoint.includes("s3cret"),
        "the password is only stored encrypted",
      );
      assert.equal((await stack.up()).summary.resourceChanges?.create, undefined, "a second up leases nothing");
      await stack.destroy();
      assert.equal(lease.deleted, true);
    }));

  test("a password rotated between up and destroy: destroy uses the openrc sourced since, or the stack's new key once an up read it", () =>
    withLease({}, async (fake, stack) => {
      await stack.up();
      fake.options.password = "n3w";
      const openrc = {
        OS_AUTH_URL: `${fake.url}/identity/v3`,
        OS_USERNAME: "alice",
        OS_PASSWORD: "n3w",
        OS_PROJECT_NAME: "CH-0001",
        OS_USER_DOMAIN_NAME: "Default",
      };
      // An openrc of another project is not used (the lease would be looked for in the wrong place):
      // only the stack's old key is left, and Keystone refuses it.
      Object.assign(stack.workspace.envVars, { ...openrc, OS_PROJECT_NAME: "CH-0002" });
      await assert.rejects(stack.destroy(), /refused the credentials of alice \(401\)/);
      Object.assign(stack.workspace.envVars, openrc);
      await stack.destroy();
      assert.equal(fake.leases[0].deleted, true);

      // Without an openrc: the stack's openstack:password, set again after the rotation. A destroy gets
      // the stack's keys as the last update read them (Pulumi keeps its providers' configuration in the
      // state, the openstack plugin's too): an up reads the new one.
      for (const key of Object.keys(openrc)) stack.workspace.envVars[key] = "";
      await stack.setConfig("openstack:password", { value: "n3w", secret: true });
      await stack.up();
      fake.options.password = "n4w";
      await stack.setConfig("openstack:password", { value: "n4w", secret: true });
      await assert.rejects(stack.destroy(), /refused the credentials of alice \(401\)/);
      await stack.up();
      await stack.destroy();
      assert.equal(fake.leases[1].deleted, true);
    }));

  test("a lease Blazar puts in ERROR fails the up with what to do", () =>
    withLease({ failStatus: "ERROR" }, async (fake, stack) => {
      await assert.rejects(
        stack.up(),
        /Blazar lease enos-lease \(.*\) is ERROR; run up again to ask for a new lease, or destroy/,
      );
      await stack.destroy();
      assert.deepEqual(fake.openLeases(), []);
    }));

  test("not enough hosts: Blazar's refusal is the error, nothing is leased", () =>
    withLease({ hosts: { compute_skylake: 1, storage: 2 } }, async (fake, stack) => {
      await assert.rejects(stack.up(), /answered 409: .*Not enough hosts available for compute_skylake/);
      assert.equal(fake.leases.length, 0);
    }));

  /** Kills an up once the lease is made, the fake holding Blazar's answer back; then answers at once. */
  async function killWhileLeasing(fake: FakeBlazar, stack: Awaited<ReturnType<typeof openStack>>, name: string) {
    await killUpdateWhen(name, stack.up(), () => fake.leases.length === 1);
    fake.options.createDelayMs = 0;
  }

  test("an up killed while the lease was asked for: the next up finds it by name, asks for none again", () =>
    withLease({ createDelayMs: 600_000 }, async (fake, stack, name, stateDir) => {
      await killWhileLeasing(fake, stack, name);
      const settled = await recoverInterruptedUpdate(stack, stateDir);
      assert.ok(settled.includes(`lease found (${fake.leases[0].id}) and kept`), settled.join(", "));
      const up = await stack.up();
      assert.equal(fake.leases.length, 1, "the lease asked for before the kill, and no other");
      assert.equal(up.outputs.leaseId.value, fake.leases[0].id);
      assert.match(up.outputs.endDate.value, /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
      await stack.destroy();
      assert.equal(fake.leases[0].deleted, true);
    }));

  test("an up killed while the lease was asked for: destroy finds it by name and deletes it", () =>
    withLease({ createDelayMs: 600_000 }, async (fake, stack, name, stateDir) => {
      await killWhileLeasing(fake, stack, name);
      await recoverInterruptedUpdate(stack, stateDir, true);
      await stack.destroy();
      assert.equal(fake.leases.length, 1);
      assert.equal(fake.leases[0].deleted, true);
    }));

  test("an up killed while the lease is pending: destroy still deletes it", () =>
    withLease({ neverActive: true }, async (fake, stack, name, stateDir) => {
      await killUpdateWhen(name, stack.up(), () => fake.leases[0]?.polls >= 2);
      assert.equal(fake.openLeases().length, 1);
      await recoverInterruptedUpdate(stack, stateDir, true);
      await stack.destroy();
      assert.equal(fake.leases[0].deleted, true);
    }));

  test("an open lease named like the experiment's, reserving the hosts asked, is reused: none asked for", () =>
    withLease({}, async (fake, stack) => {
      const before = await leaseBefore(fake, demands);
      const up = await stack.up();
      assert.equal(fake.leases.length, 1, "no lease asked for");
      assert.deepEqual([up.outputs.leaseId.value, up.outputs.reused.value], [before.id, true]);
      assert.equal(up.outputs.endDate.value, before.end_date, "its end, as Blazar has it");
      assert.ok(up.outputs.reservations.value.storage, "waited ACTIVE, its reservations read");
      await stack.destroy();
      assert.equal(fake.leases[0].deleted, true, "destroy releases it with the stack");
    }));

  test("an open lease named like the experiment's reserving other hosts is refused, named, and left alone", () =>
    withLease({}, async (fake, stack) => {
      const before = await leaseBefore(fake, [{ bucket: "storage", role: "compute", count: 1 }]);
      await assert.rejects(
        stack.up(),
        new RegExp(
          `Blazar lease enos-lease \\(${before.id}\\) is named like this experiment's lease but reserves ` +
            'physical:host \\["==","\\$node_type","storage"\\] x1 where it asks .*; ' +
            `delete it \\(openstack reservation lease delete ${before.id}\\) ` +
            "or give this experiment another provider.lease_name",
        ),
      );
      assert.equal(fake.leases.length, 1, "no lease asked for");
      await stack.destroy();
      assert.equal(fake.leases[0].deleted, false, "the other lease is not the stack's to delete");
      await blazarCall(await blazarOf(fake), "DELETE", `leases/${before.id}`);
    }));
});
