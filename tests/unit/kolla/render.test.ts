import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as yaml from "js-yaml";
import { loadExperiment } from "../../../config/load";
import { PROJECT_DIR } from "../../../config/paths";
import type { Host, TestbedNetwork } from "../../../config/types";
import { testbedNetwork } from "../../../config/vips";
import { globalsOf, kollaAnsibleRelease, renderGlobals } from "../../../kolla/globals";
import { hostLine, parseInventory, renderInventory, unfilledGroups } from "../../../kolla/inventory";
import { secretKinds } from "../../../kolla/passwords";
import { inventoryProblems, renderKollaFiles, staticHostsOf } from "../../../kolla/render";
import { FIXTURES } from "../../support/helpers";

const DEFAULT_INVENTORY = fs.readFileSync(path.join(PROJECT_DIR, "kolla", "inventory.default"), "utf8");
const KOLLA_SHARE = path.join(PROJECT_DIR, ".venv", "share", "kolla-ansible");

const host = (alias: string, roles: string[], n: number, extra: Partial<Host> = {}): Host => ({
  alias,
  address: `10.231.0.${n}`,
  user: "root",
  port: 22,
  keyfile: "/state/dev/id_ed25519",
  roles,
  groups: [],
  extra: {},
  interfaces: { api: "eth0", external: "eth1" },
  ips: [`10.231.0.${n}`],
  devices: ["eth0", "eth1"],
  kernel: { htb: true, netem: false },
  ...extra,
});
const hosts = [
  host("control-1", ["control"], 10),
  host("network-1", ["network"], 11),
  host("compute-1", ["compute"], 12),
  host("compute-2", ["compute"], 13),
];
const network: TestbedNetwork = testbedNetwork(
  ["10.231.0.250", "10.231.0.251", "10.231.0.252", "10.231.0.253", "10.231.0.254"],
  { cidr: "10.232.0.0/24", start: "10.232.0.100", end: "10.232.0.200", gateway: "10.232.0.1", dns: "10.232.0.1" },
  ["eth0", "eth1"],
);
const eths = { api: "eth0", external: "eth1" };

describe("kolla inventory", () => {
  test("the default inventory has exactly the groups of the installed kolla-ansible's multinode", () => {
    const theirs = parseInventory(fs.readFileSync(path.join(KOLLA_SHARE, "ansible", "inventory", "multinode"), "utf8"));
    const ours = parseInventory(DEFAULT_INVENTORY);
    const shape = (sections: typeof ours) =>
      sections.map((s) => `${s.name}${s.children ? `: ${s.entries.join(",")}` : ""}`).sort();
    assert.deepEqual(shape(ours), shape(theirs));
  });

  test("role groups get their hosts with connection variables; monitoring falls back to control", () => {
    const inventory = renderInventory(DEFAULT_INVENTORY, hosts, eths);
    const line =
      "control-1 ansible_host=10.231.0.10 ansible_user=root ansible_port=22 ansible_ssh_private_key_file=/state/dev/id_ed25519";
    assert.match(inventory, new RegExp(`\\[control\\]\\n${line}\\n`));
    assert.match(
      inventory,
      /\[compute\]\ncompute-1 ansible_host=10\.231\.0\.12 .*\ncompute-2 ansible_host=10\.231\.0\.13 /,
    );
    assert.match(inventory, /\[monitoring\]\ncontrol-1 ansible_host/);
    assert.match(
      inventory,
      /\[deployment\]\n# .*\nlocalhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n/,
    );
    assert.match(inventory, /\[nova:children\]\ncontrol\n/);
  });

  test("a host's extra vars follow; an interface that differs from globals.yml's becomes a host var", () => {
    const odd = host("odd", ["compute"], 20, {
      extra: { ansible_become: true, note: "two words" },
      interfaces: { api: "ens3", external: "eth1" },
    });
    assert.equal(
      hostLine(odd, eths),
      'odd ansible_host=10.231.0.20 ansible_user=root ansible_port=22 ansible_ssh_private_key_file=/state/dev/id_ed25519 network_interface=ens3 ansible_become=true note="two words"',
    );
  });

  test("ansible-inventory (the real one) reads the rendered inventory: every host under its groups", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-inventory-"));
    try {
      fs.writeFileSync(path.join(dir, "multinode"), renderInventory(DEFAULT_INVENTORY, hosts, eths));
      const graph = JSON.parse(
        execFileSync(
          path.join(PROJECT_DIR, ".venv", "bin", "ansible-inventory"),
          ["-i", path.join(dir, "multinode"), "--list"],
          { encoding: "utf8" },
        ),
      );
      assert.deepEqual(graph.control.hosts, ["control-1"]);
      assert.deepEqual(graph.compute.hosts, ["compute-1", "compute-2"]);
      assert.deepEqual(graph._meta.hostvars["compute-2"].ansible_host, "10.231.0.13");
      assert.ok(graph.keystone.children.includes("control"), "keystone runs on the control group");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a custom inventory's role groups are filled, and a role it needs without host is named", () => {
    const custom = fs.readFileSync(path.join(FIXTURES, "seed", "inventories", "conductor.inventory"), "utf8");
    const withConductor = [...hosts, host("conductor-1", ["conductor-node"], 14)];
    assert.match(
      renderInventory(custom, withConductor, eths),
      /\[conductor-node\]\nconductor-1 ansible_host=10\.231\.0\.14/,
    );
    assert.deepEqual(unfilledGroups(custom, withConductor), []);
    assert.deepEqual(unfilledGroups(custom, hosts), [{ group: "conductor-node", neededBy: ["nova-conductor"] }]);
  });

  test("the default inventory needs control, network and compute hosts, not storage", () => {
    assert.deepEqual(unfilledGroups(DEFAULT_INVENTORY, hosts), []);
    assert.deepEqual(
      unfilledGroups(
        DEFAULT_INVENTORY,
        hosts.filter((h) => !h.roles.includes("network")),
      ).map((g) => g.group),
      ["network"],
    );
  });
});

describe("kolla globals.yml", () => {
  test("defaults come from the testbed: VIP (Enos' first pop_ip: the last extra IP), interfaces, release", () => {
    assert.deepEqual(globalsOf({ hosts, network, registry: { type: "none" }, kolla: {} }), {
      openstack_release: "2026.1",
      kolla_internal_vip_address: "10.231.0.254",
      network_interface: "eth0",
      neutron_external_interface: "eth1",
    });
  });
  test("the user's kolla: keys win", () => {
    const globals = globalsOf({
      hosts,
      network,
      registry: { type: "none" },
      kolla: { network_interface: "eth9", openstack_release: "2025.2", enable_cinder: "yes" },
    });
    assert.deepEqual(
      [globals.network_interface, globals.openstack_release, globals.enable_cinder],
      ["eth9", "2025.2", "yes"],
    );
  });
  test("registries: internal mirror at the registry VIP (Enos' second pop_ip), external as given, both insecure", () => {
    const internal = globalsOf({
      hosts,
      network,
      registry: { type: "internal", port: 4000, mirror: "https://quay.io", ceph: false },
      kolla: {},
    });
    assert.deepEqual([internal.docker_registry, internal.docker_registry_insecure], ["10.231.0.253:4000", true]);
    const external = globalsOf({
      hosts,
      network,
      registry: { type: "external", ip: "192.168.142.253", port: 5000 },
      kolla: {},
    });
    assert.equal(external.docker_registry, "192.168.142.253:5000");
  });
  test("rendered as YAML that reads back the same", () => {
    const text = renderGlobals({
      hosts,
      network,
      registry: { type: "none" },
      kolla: { nova_compute_virt_type: "qemu" },
    });
    assert.deepEqual(
      yaml.load(text),
      globalsOf({ hosts, network, registry: { type: "none" }, kolla: { nova_compute_virt_type: "qemu" } }),
    );
  });
  test("the kolla-ansible release follows openstack_release; an unknown one names the key and the fix", () => {
    assert.equal(kollaAnsibleRelease({ openstack_release: "2026.1" }), "22.2.0");
    assert.throws(
      () => kollaAnsibleRelease({ openstack_release: "4.0.0" }),
      /kolla\.openstack_release 4\.0\.0 has no known kolla-ansible release .*set kolla_repo and kolla_ref/,
    );
  });
  test("the pinned kolla-ansible is the one setup installs for the default release", () => {
    const installed = execFileSync(
      path.join(PROJECT_DIR, ".venv", "bin", "python"),
      ["-c", "import importlib.metadata as m; print(m.version('kolla-ansible'))"],
      { encoding: "utf8" },
    ).trim();
    assert.equal(kollaAnsibleRelease({ openstack_release: "2026.1" }), installed);
  });
});

describe("kolla files for a deploy (and the os --render dry run)", () => {
  const SEED = path.join(FIXTURES, "seed");
  const fromFile = (name: string) =>
    loadExperiment({ stack: { reservationFile: path.join(SEED, name) }, baseDir: SEED });

  test("passwords.yml has one value per key of the release's template", () => {
    const keys = Object.keys(
      secretKinds(fs.readFileSync(path.join(KOLLA_SHARE, "etc_examples", "kolla", "passwords.yml"), "utf8")),
    );
    assert.ok(
      keys.length > 100 && keys.includes("keystone_admin_password") && keys.includes("database_password"),
      `${keys.length} keys`,
    );
  });

  test("a static reservation file renders the inventory and globals a kolla-ansible user would write", () => {
    const config = fromFile("static.yaml");
    const { hosts, network } = staticHostsOf(config);
    const files = renderKollaFiles(config, hosts, network, { database_password: "x" });
    assert.match(
      files.multinode,
      /\[control\]\ncontrol ansible_host=192\.0\.2\.17 ansible_user=user ansible_port=22 ansible_ssh_private_key_file=keyfile ansible_become=true\n/,
    );
    assert.match(
      files.multinode,
      /\[compute\]\ncompute1 ansible_host=192\.0\.2\.33 .*\n192\.0\.2\.34 ansible_host=192\.0\.2\.34\n192\.0\.2\.35 ansible_host=192\.0\.2\.35\n/,
    );
    assert.deepEqual(yaml.load(files.globals), {
      openstack_release: "2026.1",
      kolla_internal_vip_address: "198.51.100.53",
      network_interface: "eth1",
      neutron_external_interface: "eth2",
    });
    assert.deepEqual(yaml.load(files.passwords), { database_password: "x" });
  });

  test("a custom inventory's role without host is an error naming the group and the role to add", () => {
    const config = fromFile("custom-inventory.yaml");
    const hostsWithout = hosts;
    assert.match(
      inventoryProblems(fs.readFileSync(config.inventory!, "utf8"), hostsWithout) ?? "",
      /group conductor-node \(needed by nova-conductor\) has no host: add role conductor-node to resources or topology/,
    );
  });

  test("hosts of an acquired testbed cannot come from the file", () => {
    assert.throws(
      () => staticHostsOf(fromFile("g5k.yaml")),
      /hosts of a g5k testbed are known once acquired: use --stack NAME/,
    );
  });
});
