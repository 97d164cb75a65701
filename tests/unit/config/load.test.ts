import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "../../../config/errors";
import { loadExperiment } from "../../../config/load";
import { FIXTURES } from "../../support/helpers";

const SEED = path.join(FIXTURES, "seed");
const fromFile = (name: string) => loadExperiment({ stack: { reservationFile: path.join(SEED, name) }, baseDir: SEED });

/** The problems a config gives; fails the test if it is accepted. */
function problemsOf(stack: Record<string, unknown>): string[] {
  try {
    loadExperiment({ stack, baseDir: SEED });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail(`accepted: ${JSON.stringify(stack)}`);
}

describe("every example of the seed document validates", () => {
  for (const file of fs.readdirSync(SEED).filter((f) => f.endsWith(".yaml"))) {
    test(file, () => {
      const config = fromFile(file);
      assert.ok(config.demands.length > 0 || config.staticHosts.length > 0, "it describes hosts");
    });
  }

  test("g5k gets every default option", () => {
    const { provider } = fromFile("g5k.yaml");
    assert.deepEqual(provider, {
      type: "g5k",
      walltime: "02:00:00",
      env_name: "debian12-min",
      reservation: null,
      vlans: { rennes: "{type=kavlan}/vlan=1" },
      role_distribution: "strict",
      single_interface: false,
      user: "root",
      api_url: "https://api.grid5000.fr/stable/",
      credentials_file: "~/.python-grid5000.yaml",
      poll_interval: 10,
      wait_timeout: 7200,
      ssh_wait_timeout: 300,
    });
  });

  test("the documented default block, with Python's None and vlans as YAML text, means the defaults", () => {
    // Unset, the job's name is the stack's (enos-<stack>); Enos' Enos is kept when written.
    const { name, ...written } = fromFile("g5k-defaults.yaml").provider as { name?: string };
    assert.equal(name, "Enos");
    assert.deepEqual({ ...written, env_name: "debian12-min" }, fromFile("g5k.yaml").provider);
  });

  test("a provider given twice keeps the last one", () => {
    assert.deepEqual(fromFile("vagrant-libvirt.yaml").provider, {
      type: "vagrant",
      backend: "virtualbox",
      box: "debian/jessie64",
      user: "root",
    });
  });

  test("chameleon providers merge their defaults under the user's keys", () => {
    const bm = fromFile("chameleonbaremetal.yaml").provider;
    assert.equal(bm.type, "chameleonbaremetal");
    assert.deepEqual(
      bm.type === "chameleonbaremetal" && [
        bm.lease_name,
        bm.user,
        bm.network_interface,
        bm.configure_network,
        bm.network.name,
        bm.key_name,
      ],
      // lease_name unset: the stack's, enos-<stack>.
      [undefined, "cc", "eno1", false, "sharednet1", "enos-key"],
    );
    const kvm = fromFile("chameleonkvm.yaml").provider;
    assert.deepEqual(kvm.type === "chameleonkvm" && [kvm.user, kvm.network_interface, kvm.configure_network], [
      "cc",
      "ens3",
      true,
    ]);
  });

  test("static hosts shared through anchors keep one entry with all their roles", () => {
    const { staticHosts, warnings } = fromFile("static-anchors.yaml");
    assert.deepEqual(
      staticHosts.map((h) => [h.address, h.roles, h.extra.ansible_become]),
      [
        ["192.0.2.17", ["control", "network"], true],
        ["192.0.2.33", ["compute", "storage"], true],
        ["192.0.2.34", ["compute", "storage"], true],
      ],
    );
    assert.match(warnings.join(), /hosts: ignored/);
  });

  test("static hosts keep their ssh settings and ansible extras", () => {
    const control = fromFile("static.yaml").staticHosts.find((h) => h.alias === "control");
    assert.deepEqual(control, {
      address: "192.0.2.17",
      alias: "control",
      user: "user",
      keyfile: "keyfile",
      port: 22,
      extra: { ansible_become: true },
      roles: ["control", "network"],
      groups: [],
    });
  });

  test("topology ranges become groups, each with the same content", () => {
    const config = fromFile("network-constraints.yaml");
    assert.deepEqual(config.groups, ["grp1", "grp2", "grp3", "grp4"]);
    assert.deepEqual(
      config.demands.filter((d) => d.role === "compute").map((d) => d.group),
      ["grp2", "grp3", "grp4"],
    );
    assert.equal(config.networkConstraints?.constraints[0].symetric, true);
  });

  test("relative paths are relative to the reservation file", () => {
    assert.equal(fromFile("custom-inventory.yaml").inventory, path.join(SEED, "inventories/conductor.inventory"));
    assert.equal(fromFile("benchmark.yaml").workload, path.join(SEED, "bench"));
    assert.equal(fromFile("g5k.yaml").inventory, undefined, "no inventory key means the default inventory");
    const registry = { type: "internal", mirror: "none", images: "bench/run.yml" };
    const withImages = loadExperiment({ stack: { ...g5k(), registry }, baseDir: SEED }).registry;
    assert.equal(withImages.type === "internal" && withImages.images, path.join(SEED, "bench", "run.yml"));
    const store = loadExperiment({ stack: { ...g5k(), registry: { ...registry, store: "bench" } }, baseDir: SEED });
    assert.equal(store.registry.type === "internal" && store.registry.store, path.join(SEED, "bench"));
    assert.equal(
      loadExperiment({ stack: { ...g5k(), init_image: "bench/run.yml" }, baseDir: SEED }).initImage,
      path.join(SEED, "bench", "run.yml"),
    );
    const kolla = { node_custom_config: "bench", openstack_release: "2026.1" };
    assert.equal(
      loadExperiment({ stack: { ...g5k(), kolla }, baseDir: SEED }).kolla.node_custom_config,
      path.join(SEED, "bench"),
    );
    const templated = { node_custom_config: "{{ node_config }}/custom" };
    assert.equal(
      loadExperiment({ stack: { ...g5k(), kolla: templated }, baseDir: SEED }).kolla.node_custom_config,
      "{{ node_config }}/custom",
    );
    const url = "https://example.org/cirros.img";
    assert.equal(loadExperiment({ stack: { ...g5k(), init_image: url }, baseDir: SEED }).initImage, url);
  });

  test("patches: enabled 'yes' is true, {{ cwd }} is kept for the Kolla phase", () => {
    assert.deepEqual(fromFile("patches.yaml").patches, [
      {
        name: "Patch mariadb start",
        src: "{{ cwd }}/mariadb_bootstrap.yml",
        dst: "kolla/ansible/roles/mariadb/tasks/start.yml",
        enabled: true,
      },
    ]);
  });

  test("kolla variables, kolla-ansible source, registry and monitoring", () => {
    const config = fromFile("kolla.yaml");
    assert.equal(config.kolla.openstack_release, "4.0.0");
    assert.equal(config.kollaRef, "stable/ocata");
    assert.deepEqual(config.registry.type === "internal" && [config.registry.port, config.registry.mirror], [
      4000,
      "https://quay.io",
    ]);
    assert.equal(config.enableMonitoring, true);
    assert.equal(config.kollaMode, "deploy");
  });
});

describe("local testbed host kinds", () => {
  const local = (hosts?: string) => ({ type: "local", ...(hosts ? { hosts } : {}) });
  const resources = { control: 1, network: 1, compute: 1 };

  test("namespace hosts by default; machine hosts allow kolla_mode deploy; both default to check", () => {
    const namespaces = loadExperiment({ stack: { provider: local(), resources }, baseDir: SEED });
    assert.equal(namespaces.provider.type === "local" && namespaces.provider.hosts, "namespace");
    assert.equal(namespaces.kollaMode, "check");
    const machines = loadExperiment({ stack: { provider: local("machine"), resources }, baseDir: SEED });
    assert.equal(machines.kollaMode, "check");
    const deploy = loadExperiment({
      stack: { provider: local("machine"), resources, kolla_mode: "deploy" },
      baseDir: SEED,
    });
    assert.equal(deploy.kollaMode, "deploy");
  });
});

describe("stack keys and the reservation file", () => {
  test("keys set in the stack override the file's", () => {
    const config = loadExperiment({
      stack: {
        reservationFile: path.join(SEED, "g5k.yaml"),
        provider: { type: "g5k", walltime: "10:00:00" },
        enable_monitoring: true,
      },
      baseDir: SEED,
    });
    assert.equal(config.provider.type === "g5k" && config.provider.walltime, "10:00:00");
    assert.equal(config.enableMonitoring, true);
    assert.equal(config.demands.length, 3, "resources still come from the file");
  });
});

interface Malformed {
  name: string;
  stack: Record<string, unknown>;
  /** A problem must start with this key path ... */
  path: string;
  /** ... and say this. */
  says: RegExp;
}

const g5k = (
  extra: Record<string, unknown> = {},
  resources: unknown = { paravance: { control: 1, network: 1, compute: 1 } },
) => ({ provider: { type: "g5k", ...extra }, resources });
const network = {
  extra_ips: ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"],
  start: "10.1.0.10",
  end: "10.1.0.20",
  cidr: "10.1.0.0/24",
  gateway: "10.1.0.1",
  dns: "10.1.0.1",
};
const staticHost = { address: "192.0.2.1" };
const staticConfig = (provider: Record<string, unknown> = {}, host: Record<string, unknown> = staticHost) => ({
  provider: { type: "static", network, eths: ["eth0", "eth1"], ...provider },
  resources: { control: host, network: host, compute: host },
});
const topology = { grp1: { paravance: { control: 1, network: 1 } }, "grp[2-3]": { paravance: { compute: 1 } } };
const constraints = (nc: Record<string, unknown>) => ({
  provider: "g5k",
  topology,
  network_constraints: { default_delay: "10ms", default_rate: "1gbit", default_loss: "0%", ...nc },
});

const MALFORMED: Malformed[] = [
  { name: "no provider", stack: { resources: { a: { control: 1 } } }, path: "provider", says: /missing/ },
  {
    name: "unknown provider",
    stack: { provider: "grid5000", resources: {} },
    path: "provider",
    says: /one of local, static, g5k/,
  },
  {
    name: "no resources nor topology",
    stack: { provider: "g5k" },
    path: "resources",
    says: /missing; describe the hosts/,
  },
  { name: "resources and topology", stack: { ...g5k(), topology }, path: "topology", says: /both set/ },
  {
    name: "no compute role",
    stack: g5k({}, { paravance: { control: 1, network: 1 } }),
    path: "resources.compute",
    says: /at least one host with role compute/,
  },
  { name: "walltime not hh:mm:ss", stack: g5k({ walltime: "2h" }), path: "provider.walltime", says: /hh:mm:ss/ },
  {
    name: "bad role_distribution",
    stack: g5k({ role_distribution: "loose" }),
    path: "provider.role_distribution",
    says: /"strict", "debug", found "loose"/,
  },
  {
    name: "misspelt provider key",
    stack: g5k({ walltme: "02:00:00" }),
    path: "provider.walltme",
    says: /did you mean "walltime"/,
  },
  {
    name: "zero hosts of a role",
    stack: g5k({}, { paravance: { control: 0, network: 1, compute: 1 } }),
    path: "resources.paravance.control",
    says: />=1/,
  },
  {
    name: "count as text",
    stack: g5k({}, { paravance: { control: "two", network: 1, compute: 1 } }),
    path: "resources.paravance.control",
    says: /expected number, found "two"/,
  },
  {
    name: "unknown vagrant size",
    stack: { provider: "vagrant", resources: { huge: { control: 1 } } },
    path: "resources.huge",
    says: /tiny/,
  },
  {
    name: "unknown vagrant backend",
    stack: {
      provider: { type: "vagrant", backend: "docker" },
      resources: { small: { control: 1, network: 1, compute: 1 } },
    },
    path: "provider.backend",
    says: /virtualbox/,
  },
  {
    name: "openstack without key_name",
    stack: {
      provider: { type: "openstack", image_name: "i", user: "u", network_interface: "ens3" },
      resources: { m1: { control: 1, network: 1, compute: 1 } },
    },
    path: "provider.key_name",
    says: /missing; expected string/,
  },
  {
    name: "too few addresses for the VIPs",
    stack: staticConfig({ network: { ...network, extra_ips: ["10.0.0.1", "10.0.0.2"], end: "10.1.0.12" } }),
    path: "provider.network",
    says: /needs 5 addresses for Kolla's VIPs \(vip, registry_vip, influx_vip, grafana_vip, external_vip\) and has 4: 2 in extra_ips, and 2 of the 3 in 10\.1\.0\.10\.\.10\.1\.0\.12 .*add addresses to extra_ips or widen start\.\.end/,
  },
  {
    name: "malformed IP",
    stack: staticConfig({ network: { ...network, start: "10.1.0" } }),
    path: "provider.network.start",
    says: /IPv4/i,
  },
  {
    name: "one eth",
    stack: staticConfig({ eths: ["eth0"] }),
    path: "provider.eths",
    says: /api_interface, external_interface/,
  },
  {
    name: "static host without address",
    stack: staticConfig({}, { alias: "c" }),
    path: "resources.control",
    says: /address|expected/,
  },
  {
    name: "static port as text",
    stack: staticConfig({}, { address: "192.0.2.1", port: "ssh" }),
    path: "resources.control.port",
    says: /expected number, found "ssh"/,
  },
  {
    name: "ansible var outside extra",
    stack: staticConfig({}, { address: "192.0.2.1", ansible_become: true }),
    path: "resources.control.ansible_become",
    says: /go under its extra/,
  },
  {
    name: "no default_rate",
    stack: constraints({ default_rate: undefined }),
    path: "network_constraints.default_rate",
    says: /missing/,
  },
  {
    name: "delay unit",
    stack: constraints({ default_delay: "10 parsecs" }),
    path: "network_constraints.default_delay",
    says: /not a delay.*e\.g\. 10ms/,
  },
  {
    name: "rate unit",
    stack: constraints({ constraints: [{ src: "grp1", dst: "grp2", rate: "fast" }] }),
    path: "network_constraints.constraints[0].rate",
    says: /not a rate/,
  },
  {
    name: "loss over 100%",
    stack: constraints({ default_loss: "150%" }),
    path: "network_constraints.default_loss",
    says: /between 0% and 100%/,
  },
  {
    name: "constraint to an unknown group",
    stack: constraints({ constraints: [{ src: "grp1", dst: "grp9" }] }),
    path: "network_constraints.constraints[0].dst",
    says: /grp9 that the topology does not define/,
  },
  {
    name: "except names an unknown group",
    stack: constraints({ except: ["grp[3-5]"] }),
    path: "network_constraints.except[0]",
    says: /grp4, grp5/,
  },
  {
    name: "constraints without groups",
    stack: { ...g5k(), network_constraints: { default_delay: "1ms", default_rate: "1gbit", default_loss: 0 } },
    path: "network_constraints",
    says: /needs groups/,
  },
  {
    name: "reversed topology range",
    stack: { provider: "g5k", topology: { "grp[3-1]": { p: { control: 1 } } } },
    path: "topology",
    says: /counts down/,
  },
  {
    name: "group defined twice",
    stack: { provider: "g5k", topology: { grp2: { p: { control: 1 } }, "grp[1-3]": { p: { compute: 1 } } } },
    path: "topology",
    says: /"grp2" is defined twice/,
  },
  {
    name: "unknown registry type",
    stack: { ...g5k(), registry: { type: "dockerhub" } },
    path: "registry",
    says: /none, internal, external/,
  },
  {
    name: "ceph registry without keyring",
    stack: { ...g5k(), registry: { type: "internal", ceph: true, ceph_id: "u", ceph_rbd: "p/r", ceph_mon_host: "m" } },
    path: "registry.ceph_keyring",
    says: /required when ceph/,
  },
  {
    name: "registry mirror that is no URL",
    stack: { ...g5k(), registry: { type: "internal", mirror: "quay.io" } },
    path: "registry.mirror",
    says: /expected an http\(s\) URL or "none"/,
  },
  {
    name: "registry images archive that is not there",
    stack: { ...g5k(), registry: { type: "internal", images: "no-such-images.tar" } },
    path: "registry.images",
    says: /file .*no-such-images\.tar does not exist; point it to a docker save archive \(kolla\/images\/build --output DIR makes one\)/,
  },
  {
    name: "registry store that is not there",
    stack: { ...g5k(), registry: { type: "internal", store: "no-such-store.tar" } },
    path: "registry.store",
    says: /file .*no-such-store\.tar does not exist; point it to a tar of a registry's storage \(kolla\/images\/build --output DIR makes one\)/,
  },
  {
    name: "registry store on a Ceph-backed registry",
    stack: {
      ...g5k(),
      registry: {
        type: "internal",
        store: "bench/run.yml",
        ceph: true,
        ceph_keyring: "k",
        ceph_id: "i",
        ceph_rbd: "p/r",
        ceph_mon_host: "m",
      },
    },
    path: "registry.store",
    says: /cannot go with ceph: true \(the Ceph volume is the registry's storage\); remove one of them/,
  },
  {
    name: "init image that is not there",
    stack: { ...g5k(), init_image: "no-such-cirros.img" },
    path: "init_image",
    says: /file .*no-such-cirros\.img does not exist; point it to a cirros image or give an http\(s\) URL \(kolla\/images\/build --output DIR makes a stand-in\)/,
  },
  {
    name: "external registry without port",
    stack: { ...g5k(), registry: { type: "external", ip: "10.0.0.1" } },
    path: "registry.port",
    says: /missing/,
  },
  {
    name: "unknown kolla_mode",
    stack: { ...g5k(), kolla_mode: "dryrun" },
    path: "kolla_mode",
    says: /"deploy", "check"/,
  },
  {
    name: "dev cloud on a remote testbed",
    stack: { ...g5k(), dev_cloud: true },
    path: "dev_cloud",
    says: /local testbed only \(this stack's provider is g5k/,
  },
  {
    name: "dev cloud without kolla check",
    stack: {
      provider: "local",
      resources: { control: 1, network: 1, compute: 1 },
      kolla_mode: "none",
      dev_cloud: true,
    },
    path: "dev_cloud",
    says: /needs kolla_mode check .*found none/,
  },
  {
    name: "kolla deploy on namespace hosts",
    stack: { provider: "local", resources: { control: 1, network: 1, compute: 1 }, kolla_mode: "deploy" },
    path: "kolla_mode",
    says: /deploy is impossible on namespace hosts .*provider\.hosts: machine/,
  },
  {
    name: "dev cloud on machine hosts",
    stack: {
      provider: { type: "local", hosts: "machine" },
      resources: { control: 1, network: 1, compute: 1 },
      dev_cloud: true,
    },
    path: "dev_cloud",
    says: /namespace hosts only/,
  },
  {
    name: "unknown host kind",
    stack: { provider: { type: "local", hosts: "vm" }, resources: { control: 1, network: 1, compute: 1 } },
    path: "provider.hosts",
    says: /"namespace", "machine"|namespace.*machine/,
  },
  {
    name: "misspelt top-level key",
    stack: { ...g5k(), enable_monitorng: true },
    path: "enable_monitorng",
    says: /did you mean "enable_monitoring"/,
  },
  {
    name: "missing inventory file",
    stack: { ...g5k(), inventory: "nowhere/inventory" },
    path: "inventory",
    says: /does not exist/,
  },
  {
    name: "workload without run.yml",
    stack: { ...g5k(), workload: "inventories" },
    path: "workload",
    says: /run\.yml does not exist/,
  },
  {
    name: "patch without dst",
    stack: { ...g5k(), patches: [{ name: "p", src: "a" }] },
    path: "patches[0].dst",
    says: /missing/,
  },
  {
    name: "kolla_ref without kolla_repo",
    stack: { ...g5k(), kolla_ref: "stable/2026.1" },
    path: "kolla_ref",
    says: /add kolla_repo/,
  },
  {
    name: "unknown openstack_release",
    stack: { ...g5k(), kolla: { openstack_release: "1999.1" } },
    path: "kolla.openstack_release",
    says: /1999\.1 has no known kolla-ansible release \(known: 2026\.1/,
  },
  {
    name: "role that is no safe name",
    stack: g5k({}, { paravance: { control: 1, network: 1, compute: 1, "db;reboot": 1 } }),
    path: "resources",
    says: /role "db;reboot" is not a safe name/,
  },
  {
    name: "group that is no safe name",
    stack: { provider: "g5k", topology: { "grp 1": { p: { control: 1, network: 1, compute: 1 } } } },
    path: "topology.grp 1",
    says: /group "grp 1" is not a safe name/,
  },
  {
    name: "static alias that is no safe name",
    stack: staticConfig({}, { address: "192.0.2.1", alias: "ctl'x" }),
    path: "resources",
    says: /alias "ctl'x" is not a safe name/,
  },
  {
    name: "missing reservation file",
    stack: { reservationFile: "nowhere.yaml" },
    path: "reservationFile",
    says: /cannot read/,
  },
  {
    name: "reservation file that is a list",
    stack: { reservationFile: path.join(FIXTURES, "not-a-mapping.yaml") },
    path: "reservationFile",
    says: /must be a YAML mapping/,
  },
];

describe("malformed configurations give an error naming the key", () => {
  for (const { name, stack, path: key, says } of MALFORMED) {
    test(name, () => {
      const problems = problemsOf(stack);
      const match = problems.find((p) => p.startsWith(key));
      assert.ok(match, `no problem at ${key} in:\n${problems.join("\n")}`);
      assert.match(match, says);
    });
  }

  test("all problems are reported at once", () => {
    const problems = problemsOf({ provider: { type: "g5k", walltime: "2h", user: 3 }, resources: {}, kolla_mode: "x" });
    assert.ok(problems.length >= 3, problems.join("\n"));
  });
});

test("ConfigError's message lists every problem with its key", () => {
  assert.throws(
    () =>
      loadExperiment({
        stack: { provider: { type: "g5k", walltime: "2h" }, resources: {}, kolla_mode: "x" },
        baseDir: SEED,
      }),
    (error: Error) =>
      /error\(s\):\n {2}- provider\.walltime: .*hh:mm:ss[\s\S]*\n {2}- kolla_mode: /.test(error.message),
  );
});
