import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { FakeBlazar } from "../fakes/blazar";
import { cleanUp, killEngine, type TestExperiment, testExperiment } from "../support/harness";
import { type StandaloneCloud, standaloneCloud } from "../support/standalone-cloud";

const EXTERNAL_CIDR = "10.226.0.0/24";
const KEY_NAME = "enos-test-key";
const ALIASES = ["control-1", "network-1", "compute-1"];
const resources = { "m1.small": { control: 1, network: 1, compute: 1 } };
// The fake instances never answer SSH: a short wait for it (the default, minutes, is for real ones).
const provider = (type: "openstack" | "chameleonkvm" | "chameleonbaremetal") => ({
  type,
  key_name: KEY_NAME,
  image_name: "cirros",
  user: "cirros",
  network_interface: "eth0",
  ssh_wait_timeout: 8,
});
const TESTBEDS = {
  openstack: { provider: provider("openstack"), resources, flavor: "m1.small" },
  chameleonkvm: { provider: provider("chameleonkvm"), resources, flavor: "m1.small" },
  // Chameleon's own network (sharednet1, routed to the public network) is the cloud's, not the stack's.
  chameleonbaremetal: {
    provider: { ...provider("chameleonbaremetal"), poll_interval: 1 },
    resources: { compute_skylake: { control: 1, network: 1, compute: 1 } },
    flavor: "baremetal",
  },
};

/**
 * The openstack, chameleonkvm and chameleonbaremetal testbeds through the real @pulumi/openstack SDK
 * and the bridged plugin, against the dev cloud (Debian's OpenStack, fake compute driver): everything
 * is made for real, but the instances are fake (no SSH), so the host probe fails; destroy must still
 * release all. Bare metal's lease goes to a fake Blazar that the cloud's catalog names and that checks
 * the cloud's Keystone tokens (no Blazar can run here).
 */
describe("openstack testbeds on the dev cloud", { timeout: 2_400_000 }, () => {
  let cloud: StandaloneCloud;
  const blazar = new FakeBlazar({ hosts: { compute_skylake: 3 } });
  const saved = { ...process.env };
  const list = (kind: string, ...args: string[]) =>
    JSON.parse(cloud.openstack(kind, "list", "-f", "json", ...args)) as Record<string, unknown>[];
  /** Every object a stack may make, by name (or description, for floating IPs). */
  const stackObjects = (stack: string) => {
    const prefix = `enos-${stack}`;
    const named = (rows: Record<string, unknown>[], key = "Name") =>
      rows
        .map((r) => String(r[key]))
        .filter((n) => n.startsWith(prefix) || n === "enos-network" || n === "enos-subnet");
    return {
      servers: named(list("server")),
      ports: named(list("port")),
      networks: named(list("network")),
      subnets: named(list("subnet")),
      routers: named(list("router")),
      securityGroups: named(list("security group")),
      floatingIps: list("floating ip", "--long")
        .map((f) => String(f.Description))
        .filter((d) => d.startsWith(`enos ${stack} `)),
    };
  };
  const nothing = {
    servers: [],
    ports: [],
    networks: [],
    subnets: [],
    routers: [],
    securityGroups: [],
    floatingIps: [],
  };

  before(async () => {
    cloud = standaloneCloud(`enos-osc${process.pid}`, "10.227.0.0/24", EXTERNAL_CIDR);
    // What a cloud's admin gives a researcher: an external network, a flavor, an image and their key pair.
    cloud.openstack(
      "network",
      "create",
      "--external",
      "--provider-network-type",
      "flat",
      "--provider-physical-network",
      "physnet1",
      "public",
    );
    cloud.openstack(
      "subnet",
      "create",
      "--network",
      "public",
      "--subnet-range",
      EXTERNAL_CIDR,
      "--no-dhcp",
      "public-subnet",
    );
    cloud.openstack("flavor", "create", "--vcpus", "1", "--ram", "512", "--disk", "1", "m1.small");
    cloud.openstack(
      "image",
      "create",
      "--disk-format",
      "qcow2",
      "--container-format",
      "bare",
      "--file",
      cloud.image,
      "cirros",
    );
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-osc-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keyDir, "id")]);
    cloud.openstack("keypair", "create", "--public-key", path.join(keyDir, "id.pub"), KEY_NAME);
    fs.rmSync(keyDir, { recursive: true, force: true });
    // Chameleon bare metal: its flavor, its shared network routed to the public one, Blazar in the catalog.
    cloud.openstack("flavor", "create", "--vcpus", "1", "--ram", "512", "--disk", "1", "baremetal");
    cloud.openstack("network", "create", "sharednet1");
    // Its pool leaves the end of the subnet free: Kolla's external pool is taken from there.
    cloud.openstack(
      "subnet",
      "create",
      "--network",
      "sharednet1",
      "--subnet-range",
      "10.140.80.0/22",
      "--allocation-pool",
      "start=10.140.80.10,end=10.140.82.255",
      "sharednet1-subnet",
    );
    cloud.openstack("router", "create", "--external-gateway", "public", "sharednet1-router");
    cloud.openstack("router", "add", "subnet", "sharednet1-router", "sharednet1-subnet");
    blazar.options.keystone = cloud.env.OS_AUTH_URL;
    await blazar.start();
    cloud.openstack("service", "create", "--name", "blazar", "reservation");
    cloud.openstack(
      "endpoint",
      "create",
      "--region",
      cloud.env.OS_REGION_NAME ?? "RegionOne",
      "blazar",
      "public",
      `${blazar.url}/reservation/v1`,
    );
    // The engine, its program and the plugin read the cloud's credentials from OS_*, as after `source openrc`.
    Object.assign(process.env, cloud.env);
  });
  after(() => {
    for (const key of Object.keys(cloud?.env ?? {}))
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    cloud?.remove();
  });
  after(() => blazar.stop()); // fails if a lease is left open

  for (const [type, testbed] of Object.entries(TESTBEDS)) {
    const ownNetwork = type !== "chameleonbaremetal";
    describe(type, () => {
      let experiment: TestExperiment;
      before(async () => {
        experiment = await testExperiment(`${type.slice(0, 2)}${type.length}${process.pid}`, {
          provider: testbed.provider,
          resources: testbed.resources,
        });
      });
      after(async () => cleanUp(experiment));

      test("up makes the network, subnet, router, security group, ports, instances and floating IP; the probe names the hosts it could not reach", async (t) => {
        const started = Date.now();
        await assert.rejects(experiment.stack.up({ parallel: 64 }), (error: Error) => {
          for (const alias of ALIASES)
            assert.match(error.message, new RegExp(`${alias} \\([\\d.]+\\): unreachable over SSH`));
          return true;
        });
        t.diagnostic(`up (failing at the probe) took ${((Date.now() - started) / 1000).toFixed(0)} s`);
        const made = stackObjects(experiment.name);
        const prefix = `enos-${experiment.name}`;
        assert.deepEqual(made.servers.sort(), ALIASES.map((a) => `${prefix}-${a}`).sort());
        for (const server of made.servers) {
          const shown = JSON.parse(cloud.openstack("server", "show", "-f", "json", server));
          // "name (id)" before compute API 2.47, the flavor itself after.
          const flavor =
            typeof shown.flavor === "string"
              ? shown.flavor.split(" ")[0]
              : (shown.flavor.original_name ?? shown.flavor.name);
          assert.deepEqual([shown.status, flavor], ["ACTIVE", testbed.flavor], server);
        }
        assert.deepEqual(
          [made.networks, made.subnets, made.routers],
          ownNetwork ? [["enos-network"], ["enos-subnet"], [`${prefix}-router`]] : [[], [], []],
        );
        if (ownNetwork) {
          const router = JSON.parse(cloud.openstack("router", "show", "-f", "json", `${prefix}-router`));
          const publicId = JSON.parse(cloud.openstack("network", "show", "-f", "json", "public")).id;
          assert.equal(
            router.external_gateway_info.network_id,
            publicId,
            "the router's gateway is the external network",
          );
        }
        assert.deepEqual(made.securityGroups, [`${prefix}-secgroup`]);
        // A port per host and five for Kolla's VIPs.
        assert.equal(made.ports.length, ALIASES.length + 5, made.ports.join(", "));
        assert.equal(made.floatingIps.length, 1);
        const [fip] = list("floating ip", "--long").filter((f) =>
          String(f.Description).startsWith(`enos ${experiment.name} `),
        );
        const hostPort = JSON.parse(cloud.openstack("port", "show", "-f", "json", `${prefix}-control-1`));
        assert.equal(fip.Port, hostPort.id, "the gateway host's port holds the floating IP");
        // Neutron lets every host's port carry the VIPs (keepalived moves them between hosts).
        const vipAddresses = made.ports
          .filter((p) => p.startsWith(`${prefix}-vip-`))
          .sort()
          .map((p) => JSON.parse(cloud.openstack("port", "show", "-f", "json", p)).fixed_ips[0].ip_address as string);
        for (const alias of ALIASES) {
          const pairs: { ip_address: string }[] = JSON.parse(
            cloud.openstack("port", "show", "-f", "json", `${prefix}-${alias}`),
          ).allowed_address_pairs;
          assert.deepEqual(pairs.map((p) => p.ip_address).sort(), [...vipAddresses].sort(), alias);
        }
        if (!ownNetwork) {
          const leases = blazar.leases.filter((l) => !l.deleted);
          assert.deepEqual(
            leases.map((l) => [l.status, l.reservations.map((r) => [r.resource_properties, r.min])]),
            [["ACTIVE", [['["==","$node_type","compute_skylake"]', 3]]]],
            "one lease, ACTIVE, of the three hosts",
          );
        }
      });

      test("destroy releases everything the stack made", async () => {
        await experiment.stack.destroy({ parallel: 64 });
        assert.deepEqual(stackObjects(experiment.name), nothing);
        assert.deepEqual(
          list("keypair").map((k) => k.Name),
          [KEY_NAME],
          "the researcher's key pair stays",
        );
        assert.deepEqual(blazar.openLeases(), [], "no lease is left open");
      });
    });
  }

  // Killed while Nova builds the instances, the engine has them as pending creates, with no id in the
  // state: no delete of the destroy can reach them, the testbed's sweep must. nova-compute is paused
  // so that every instance is still being built at the kill.
  test("an engine killed while the instances are built: destroy still releases everything (the sweep)", async (t) => {
    const experiment = await testExperiment(`ok${process.pid}`, { provider: provider("openstack"), resources });
    cloud.signal("nova-compute", "STOP");
    try {
      const up = experiment.stack.up({ parallel: 64 });
      const failed = assert.rejects(up);
      const servers = () => list("server", "--name", `^enos-${experiment.name}-`);
      for (let i = 0; i < 300 && servers().length < ALIASES.length; i++)
        await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(
        servers().map((s) => s.Status),
        ALIASES.map(() => "BUILD"),
        "every instance is being built when the engine is killed",
      );
      await killEngine(experiment.name);
      await failed;
      const state = (await experiment.stack.exportStack()).deployment;
      const pending = (state.pending_operations ?? []).filter(
        (op: { resource: { type: string } }) => op.resource.type === "openstack:compute/instance:Instance",
      );
      assert.equal(pending.length, ALIASES.length, "the instances are pending creates in the state");
      t.diagnostic(`at the kill: ${JSON.stringify(stackObjects(experiment.name))}`);
      cloud.signal("nova-compute", "CONT");
      await experiment.stack.cancel().catch(() => undefined);
      await experiment.stack.destroy({ parallel: 64 });
      assert.deepEqual(stackObjects(experiment.name), nothing);
    } finally {
      cloud.signal("nova-compute", "CONT");
      await cleanUp(experiment);
    }
  });
});
