import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import { FLAVORS, renderInitScript } from "../../components/init/script";
import { FIXTURES } from "../helpers";

const STUB = path.join(FIXTURES, "openstack-stub");
const external = { cidr: "10.248.0.0/24", start: "10.248.0.100", end: "10.248.0.200", gateway: "10.248.0.1", dns: "10.248.0.1" };

/** A cloud as Kolla leaves it: the admin project and its default security group, nothing else. */
const freshCloud = () => ({
  objects: {
    project: { admin: { id: "admin-project-id", name: "admin" } },
    "security group": { default: { id: "admin-default-sg", name: "default", project: "admin-project-id" } },
  },
  rules: [],
  quotas: [],
});

describe("OpenStack init, run against a stub `openstack` that records its calls and keeps state", () => {
  let dir: string;
  let script: string;
  const run = (env: Record<string, string> = {}) => {
    fs.writeFileSync(path.join(dir, "calls.jsonl"), "");
    const result = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${STUB}:${process.env.PATH}`, STUB_LOG: path.join(dir, "calls.jsonl"), STUB_STATE: path.join(dir, "state.json"), ...env },
    });
    const calls: string[][] = fs.readFileSync(path.join(dir, "calls.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    return { ...result, calls, creates: calls.filter((c) => c.includes("create") || c[0] === "router" && ["set", "add"].includes(c[1])).map((c) => c.join(" ")) };
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-init-"));
    fs.writeFileSync(path.join(dir, "admin-openrc"), "export OS_PROJECT_NAME=admin\nexport OS_AUTH_URL=http://10.247.0.250:5000\n");
    fs.writeFileSync(path.join(dir, "cirros.img"), "QFI\xfb");
    fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(freshCloud()));
    script = renderInitScript({ openrc: path.join(dir, "admin-openrc"), image: path.join(dir, "cirros.img"), external, pollInterval: 0 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a fresh cloud gets every object of SPEC §4, and the smoke check boots then deletes its server", () => {
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(first.creates, [
      "role create member",
      `image create --disk-format qcow2 --container-format bare --public --property architecture=x86_64 --file ${path.join(dir, "cirros.img")} cirros.uec`,
      ...FLAVORS.map(([name, ram, disk, vcpus]) => `flavor create --public --ram ${ram} --disk ${disk} --vcpus ${vcpus} ${name}`),
      "security group rule create admin-default-sg --ingress --protocol icmp --remote-ip 0.0.0.0/0",
      "security group rule create admin-default-sg --ingress --protocol tcp --dst-port 1:65535 --remote-ip 0.0.0.0/0",
      "security group rule create admin-default-sg --ingress --protocol udp --dst-port 1:65535 --remote-ip 0.0.0.0/0",
      "network create --share --external --provider-network-type flat --provider-physical-network physnet1 public",
      "subnet create --network public --subnet-range 10.248.0.0/24 --allocation-pool start=10.248.0.100,end=10.248.0.200 --gateway 10.248.0.1 --dns-nameserver 10.248.0.1 --no-dhcp public-subnet",
      "network create --provider-network-type vxlan private",
      "subnet create --network private --subnet-range 192.168.0.0/18 --gateway 192.168.0.1 --dns-nameserver 10.248.0.1 private-subnet",
      "router create router",
      "router set --external-gateway public router",
      "router add subnet router private-subnet",
      "server create --flavor m1.tiny --image cirros.uec --network private enos-smoke-check",
    ]);
    assert.deepEqual(first.calls.filter((c) => c[0] === "quota").map((c) => c.join(" ")), [
      "quota set --class --cores -1 --ram -1 --instances -1 default",
      "quota set --force --floating-ips -1 --ports -1 admin-project-id",
    ]);
    assert.deepEqual(first.calls.at(-1), ["server", "delete", "--wait", "enos-smoke-check"]);
    assert.match(first.stdout, /smoke check passed/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8")).objects.server["enos-smoke-check"], undefined, "the smoke server is gone");
  });

  test("a second run creates nothing but the smoke check's server", () => {
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(second.creates, ["server create --flavor m1.tiny --image cirros.uec --network private enos-smoke-check"]);
  });

  test("a server that goes to ERROR fails the phase with its fault, and is deleted", () => {
    const failed = run({ STUB_SERVER_FAULT: "No valid host was found. There are not enough hosts available." });
    assert.notEqual(failed.status, 0);
    assert.match(failed.stderr, /smoke check failed: server enos-smoke-check \(m1.tiny, cirros.uec, network private\) is ERROR after 0s; fault: .*No valid host was found/);
    assert.deepEqual(failed.calls.at(-1), ["server", "delete", "enos-smoke-check"]);
  });

  test("a URL image is downloaded first", () => {
    const withUrl = renderInitScript({ openrc: "/x/admin-openrc", image: "https://example.org/cirros.img", external });
    assert.match(withUrl, /curl -fsSL --retry 3 -o "\$image" 'https:\/\/example.org\/cirros.img'\n {2}openstack image create .* --file "\$image" cirros.uec/);
  });

  test("every call is valid for the real python-openstackclient (its own argument parsers)", () => {
    const calls = fs.readFileSync(path.join(dir, "calls.jsonl"), "utf8") + run().calls.map((c) => JSON.stringify(c)).join("\n");
    const check = spawnSync(path.join(PROJECT_DIR, ".venv", "bin", "python"), [path.join(STUB, "osc_syntax.py")], { input: calls, encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
    const verdicts = check.stdout.trim().split("\n");
    assert.ok(verdicts.length > 20);
    assert.deepEqual(verdicts.filter((v) => !v.startsWith("ok ")), []);
  });
});
