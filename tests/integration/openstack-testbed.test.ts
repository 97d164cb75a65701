import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestExperiment, cleanUp, killEngine, testExperiment } from "./harness";
import { StandaloneCloud, standaloneCloud } from "./standalone-cloud";

const EXTERNAL_CIDR = "10.226.0.0/24";
const KEY_NAME = "enos-test-key";
const ALIASES = ["control-1", "network-1", "compute-1"];
const resources = { "m1.small": { control: 1, network: 1, compute: 1 } };
const provider = (type: "openstack" | "chameleonkvm") =>
  ({ type, key_name: KEY_NAME, image_name: "cirros", user: "cirros", network_interface: "eth0" });

/**
 * The openstack and chameleonkvm testbeds through the real @pulumi/openstack SDK and the bridged
 * plugin, against the dev cloud (Debian's OpenStack, fake compute driver): everything is made for
 * real, but the instances are fake (no SSH), so the host probe fails; destroy must still release all.
 */
describe("openstack testbeds on the dev cloud", { timeout: 2_400_000 }, () => {
  let cloud: StandaloneCloud;
  const saved = { ...process.env };
  const list = (kind: string, ...args: string[]) => JSON.parse(cloud.openstack(kind, "list", "-f", "json", ...args)) as Record<string, unknown>[];
  /** Every object a stack may make, by name (or description, for floating IPs). */
  const stackObjects = (stack: string) => {
    const prefix = `enos-${stack}`;
    const named = (rows: Record<string, unknown>[], key = "Name") => rows.map((r) => String(r[key])).filter((n) => n.startsWith(prefix) || n === "enos-network" || n === "enos-subnet");
    return {
      servers: named(list("server")), ports: named(list("port")), networks: named(list("network")), subnets: named(list("subnet")),
      routers: named(list("router")), securityGroups: named(list("security group")),
      floatingIps: list("floating ip", "--long").map((f) => String(f.Description)).filter((d) => d.startsWith(`enos ${stack} `)),
    };
  };
  const nothing = { servers: [], ports: [], networks: [], subnets: [], routers: [], securityGroups: [], floatingIps: [] };

  before(() => {
    cloud = standaloneCloud(`enos-osc${process.pid}`, "10.227.0.0/24", EXTERNAL_CIDR);
    // What a cloud's admin gives a researcher: an external network, a flavor, an image and their key pair.
    cloud.openstack("network", "create", "--external", "--provider-network-type", "flat", "--provider-physical-network", "physnet1", "public");
    cloud.openstack("subnet", "create", "--network", "public", "--subnet-range", EXTERNAL_CIDR, "--no-dhcp", "public-subnet");
    cloud.openstack("flavor", "create", "--vcpus", "1", "--ram", "512", "--disk", "1", "m1.small");
    cloud.openstack("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file", cloud.image, "cirros");
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-osc-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keyDir, "id")]);
    cloud.openstack("keypair", "create", "--public-key", path.join(keyDir, "id.pub"), KEY_NAME);
    fs.rmSync(keyDir, { recursive: true, force: true });
    // The engine, its program and the plugin read the cloud's credentials from OS_*, as after `source openrc`.
    Object.assign(process.env, cloud.env);
  });
  after(() => {
    for (const key of Object.keys(cloud?.env ?? {})) if (saved[key] === undefined) delete process.env[key]; else process.env[key] = saved[key];
    cloud?.remove();
  });

  for (const type of ["openstack", "chameleonkvm"] as const) {
    describe(type, () => {
      let experiment: TestExperiment;
      before(async () => {
        experiment = await testExperiment(`${type.slice(0, 2)}${process.pid}`, { provider: provider(type), resources });
      });
      after(async () => cleanUp(experiment));

      test("up makes the network, subnet, router, security group, ports, instances and floating IP; the probe names the hosts it could not reach", async (t) => {
        const started = Date.now();
        await assert.rejects(experiment.stack.up({ parallel: 64 }), (error: Error) => {
          for (const alias of ALIASES) assert.match(error.message, new RegExp(`${alias} \\([\\d.]+\\): unreachable over SSH`));
          return true;
        });
        t.diagnostic(`up (failing at the probe) took ${((Date.now() - started) / 1000).toFixed(0)} s`);
        const made = stackObjects(experiment.name);
        const prefix = `enos-${experiment.name}`;
        assert.deepEqual(made.servers.sort(), ALIASES.map((a) => `${prefix}-${a}`).sort());
        for (const server of made.servers) assert.equal(JSON.parse(cloud.openstack("server", "show", "-f", "json", server)).status, "ACTIVE", server);
        assert.deepEqual(made.networks, ["enos-network"]);
        assert.deepEqual(made.subnets, ["enos-subnet"]);
        assert.deepEqual(made.routers, [`${prefix}-router`]);
        const router = JSON.parse(cloud.openstack("router", "show", "-f", "json", `${prefix}-router`));
        const publicId = JSON.parse(cloud.openstack("network", "show", "-f", "json", "public")).id;
        assert.equal(router.external_gateway_info.network_id, publicId, "the router's gateway is the external network");
        assert.deepEqual(made.securityGroups, [`${prefix}-secgroup`]);
        // A port per host and five for Kolla's VIPs.
        assert.equal(made.ports.length, ALIASES.length + 5, made.ports.join(", "));
        assert.equal(made.floatingIps.length, 1);
        const [fip] = list("floating ip", "--long").filter((f) => String(f.Description).startsWith(`enos ${experiment.name} `));
        const hostPort = JSON.parse(cloud.openstack("port", "show", "-f", "json", `${prefix}-control-1`));
        assert.equal(fip.Port, hostPort.id, "the gateway host's port holds the floating IP");
      });

      test("destroy releases everything the stack made", async () => {
        await experiment.stack.destroy({ parallel: 64 });
        assert.deepEqual(stackObjects(experiment.name), nothing);
        assert.deepEqual(list("keypair").map((k) => k.Name), [KEY_NAME], "the researcher's key pair stays");
      });
    });
  }

  // A known gap, reported as TODO until fixed: killed while Nova builds the instances, the engine has
  // them as pending creates, with no id in the state, and destroy leaves them (seen in a CI run; passes
  // when the kill comes after the creates were recorded). A sweep of the stack's named objects on
  // destroy is the fix to make.
  test("an engine killed in the middle of an up: destroy still releases everything", { todo: "destroy leaves instances whose create the kill interrupted (pending creates)" }, async (t) => {
    const experiment = await testExperiment(`ok${process.pid}`, { provider: provider("openstack"), resources });
    try {
      const up = experiment.stack.up({ parallel: 64 });
      const failed = assert.rejects(up);
      // Killed once the first instance is being built: Nova has it, the engine's state may not.
      const servers = () => list("server", "--name", `^enos-${experiment.name}-`);
      for (let i = 0; i < 300 && !servers().length; i++) await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(servers().length > 0, "an instance was being made when the engine was killed");
      await killEngine(experiment.name);
      await failed;
      t.diagnostic(`at the kill: ${JSON.stringify(stackObjects(experiment.name))}`);
      await experiment.stack.cancel().catch(() => undefined);
      await experiment.stack.destroy({ parallel: 64 });
      assert.deepEqual(stackObjects(experiment.name), nothing);
    } finally {
      await cleanUp(experiment);
    }
  });
});
