import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../../../components/tc/plan";
import { recordDependencies } from "../../support/mocked-dependencies";
import { mockedRandomOutputs } from "../../support/mocked-random";
import { mockedExperiment, settled } from "../../support/pulumi-mocks";

/** The text of an input that may be secret (mocks get a secret as a tagged object). */
const textOf = (value: unknown) =>
  String(pulumi.runtime.isRpcSecret(value) ? pulumi.runtime.unwrapRpcSecret(value) : value);

/**
 * Resources the program registers, by "type name" (and full type token); outputs a real testbed would give are faked.
 */
const registered: { type: string; token: string; name: string; custom: boolean; inputs: Record<string, unknown> }[] =
  [];
let slot = 10;
let heldVip = "10.231.0.250";
pulumi.runtime.setMocks(
  {
    newResource(args) {
      const type = args.type.split(":").pop()!;
      registered.push({ type, token: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs });
      const state: Record<string, unknown> = { ...args.inputs };
      if (type === "MachineEngine") Object.assign(state, { dockerHost: "unix:///run/enos-x/docker.sock", fit: true });
      if (type === "LocalHost" || type === "MachineHost") {
        const n = slot++;
        Object.assign(state, {
          address: `10.231.0.${n}`,
          externalAddress: `10.232.0.${n}`,
          hostKey: "ssh-ed25519 AAAA",
          kernel: { htb: true, netem: true },
        });
      }
      if (type === "StaticHostsProbe") {
        state.probed = (args.inputs.hosts as { alias: string }[]).map((h) => ({
          alias: h.alias,
          interfaces: { api: "eth0", external: "eth1" },
          addresses: { eth0: ["192.0.2.9/24"] },
          devices: ["eth0"],
          kernel: { htb: true, netem: false },
          hostKey: "ssh-ed25519 BBBB",
        }));
      }
      if (type === "SshKeyPair") Object.assign(state, { publicKey: "ssh-ed25519 AAAA enos", privateKey: "secret" });
      Object.assign(state, mockedRandomOutputs(type, args.name, args.inputs));
      if (args.name === "kolla-ansible")
        state.stdout = "database_password:\nkeystone_admin_password:\nnova_ssh_key:\n  private_key:\n  public_key:\n";
      else if (type === "Command") {
        // base-rtt's fping lines: every sampled pair 0.4 ms apart.
        const pairs = String(args.inputs.stdin).match(/@@FPING \d+/g) ?? [];
        state.stdout =
          args.name === "tc-base-rtt" ? pairs.map((p) => `${p}\n10.0.0.1 : 0.40 0.40 0.40`).join("\n") : "";
        // The hosts' addresses at tc time: the first host holds a VIP on eth0 (as keepalived puts it).
        if (args.name === "tc-host-addresses")
          state.stdout = `@@ADDR 0\n2: eth0    inet ${heldVip}/32 scope global eth0\n@@ADDR 1\n`;
      }
      return { id: `${args.name}-id`, state };
    },
    call: () => ({}),
  },
  "enos",
  "graph",
  false,
);
const dependencies = recordDependencies();

const topology = { grp1: { default: { control: 1, network: 1 } }, "grp[2-3]": { default: { compute: 1 } } };
/** Machines of one's own: a testbed where OpenStack and monitoring are deployed for real. */
const staticNetwork = {
  extra_ips: ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"],
  start: "10.1.0.10",
  end: "10.1.0.20",
  cidr: "10.1.0.0/24",
  gateway: "10.1.0.1",
  dns: "10.1.0.1",
};
const machines = {
  provider: { type: "static", network: staticNetwork, eths: ["eth0", "eth1"] },
  resources: {
    control: { address: "192.0.2.1", alias: "ctl" },
    network: { address: "192.0.2.1", alias: "ctl" },
    compute: [{ address: "192.0.2.2" }, { address: "192.0.2.3" }],
  },
};

async function build(config: Record<string, unknown>) {
  registered.length = 0;
  dependencies.clear();
  slot = 10;
  return mockedExperiment("graph", config, STATE_DIR);
}
const names = (type: string) => registered.filter((r) => r.type === type).map((r) => r.name);
/** A secret input as the mocks see it. */
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
/** The phases' files and checks are local commands: a file's create writes its stdin, a check's fails on a PROBLEM. */
const fileNames = () =>
  registered
    .filter((r) => r.token === "command:local:Command" && /cat > /.test(String(r.inputs.create)))
    .map((r) => r.name);
const checkNames = () =>
  registered
    .filter(
      (r) =>
        r.token === "command:local:Command" &&
        (r.inputs.environment as Record<string, unknown> | undefined)?.PROBLEM !== undefined,
    )
    .map((r) => r.name);
// The experiment's state directory, this process's own (another run of this file may be going on);
// `inState` shows a command with it as STATE.
const STATE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "enos-graph-"));
const inState = (value: unknown) => String(value).replaceAll(STATE_DIR, "STATE");
// The local testbed's key, which remote commands read (the SshKeyPair resource writes it for real).
before(() => {
  fs.mkdirSync(path.join(STATE_DIR, "graph"));
  fs.writeFileSync(path.join(STATE_DIR, "graph", "id_ed25519"), "the local testbed's private key\n");
});
after(() => fs.rmSync(STATE_DIR, { recursive: true, force: true }));

describe("resource graphs (pulumi mocks)", () => {
  test("local testbed: a key, two bridges, one host per role count, ssh files; no tc phase without constraints", async () => {
    const experiment = await build({ provider: "local", topology });
    assert.deepEqual(names("LocalHost"), [
      "testbed-grp1-control-1",
      "testbed-grp1-network-1",
      "testbed-grp2-compute-1",
      "testbed-grp3-compute-1",
    ]);
    assert.deepEqual(
      [names("SshKeyPair"), names("LocalBridges"), fileNames()],
      [
        ["testbed-ssh-key"],
        ["testbed-bridges"],
        ["known-hosts", "ssh-config", "kolla-multinode", "kolla-globals", "kolla-passwords"],
      ],
    );
    assert.equal(experiment.networkEmulation, undefined);
    const hosts = await settled(experiment.hosts);
    assert.deepEqual(
      hosts.map((h) => [h.alias, h.groups, h.ips]),
      [
        ["grp1-control-1", ["grp1"], ["10.231.0.10", "10.232.0.10"]],
        ["grp1-network-1", ["grp1"], ["10.231.0.11", "10.232.0.11"]],
        ["grp2-compute-1", ["grp2"], ["10.231.0.12", "10.232.0.12"]],
        ["grp3-compute-1", ["grp3"], ["10.231.0.13", "10.232.0.13"]],
      ],
    );
  });

  test("network constraints: a kernel check, then one tc command per host reaching it by its alias", async () => {
    await build({
      provider: "local",
      topology,
      network_constraints: { default_delay: "0ms", default_rate: "10mbit", default_loss: 0 },
    });
    assert.deepEqual(checkNames().sort(), ["kolla-inventory-check", "tc-kernel-check"]);
    const tcs = registered.filter((r) => r.token === "command:remote:Command" && r.name.startsWith("tc-"));
    assert.deepEqual(
      tcs.map((r) => `${r.token} ${r.name}`),
      ["grp1-control-1", "grp1-network-1", "grp2-compute-1", "grp3-compute-1"].map(
        (a) => `command:remote:Command tc-${a}`,
      ),
    );
    const tc = tcs.find((r) => r.name === "tc-grp2-compute-1")!;
    assert.deepEqual(
      tc.inputs.connection,
      secret({
        host: "10.231.0.12",
        port: 22,
        user: "root",
        privateKey: "the local testbed's private key\n",
        hostKey: "ssh-ed25519 AAAA",
        dialErrorLimit: 10,
        perDialTimeout: 15,
      }),
      "the host's address, key file content and pinned host key, as a secret",
    );
    // The script on stdin: one argument is capped at 128 KiB, which a large testbed's rules exceed.
    assert.equal(tc.inputs.create, "bash -s");
    assert.match(String(tc.inputs.stdin), /qdisc replace dev eth0 root handle 1: htb/);
    assert.match(String(tc.inputs.delete), /tc qdisc del dev eth0 root/);
  });

  test("network_constraints.test adds the measuring command", async () => {
    await build({
      provider: "local",
      topology,
      network_constraints: { default_delay: "0ms", default_rate: "10mbit", default_loss: 0, test: true },
    });
    const test = registered.find((r) => r.name === "tc-test")!;
    // The request on stdin, read from fd 0 ("-"): the plugin's stdin is a socket /dev/stdin cannot open.
    assert.match(String(test.inputs.create), /tc\/measure\.js -$/);
    assert.match(String(test.inputs.stdin), /"groupRules"/);
  });

  test("accurate mode: base RTTs measured first, half of each taken off each direction's delay", async () => {
    const experiment = await build({
      provider: "local",
      topology,
      network_constraints: { default_delay: "10ms", default_rate: "10mbit", default_loss: 0, accurate: true },
    });
    assert.deepEqual(checkNames().sort(), ["kolla-inventory-check", "tc-accuracy-check", "tc-kernel-check"]);
    assert.match(
      String(registered.find((r) => r.name === "tc-base-rtt")?.inputs.stdin),
      /tc qdisc del dev eth0 root[\s\S]*fping -C 100/,
    );
    const plans: HostPlan[] = await settled(experiment.networkEmulation!.plan);
    assert.ok(
      plans.every((p) => p.rules.every((r) => r.delay === "9800us")),
      JSON.stringify(plans[0].rules),
    );
  });

  test("monitoring: one playbook command, checked in check mode, no Grafana to point at", async () => {
    const experiment = await build({ provider: "local", topology, enable_monitoring: true, kolla_mode: "check" });
    const monitoring = registered.find((r) => r.name === "monitoring" && r.custom)!;
    assert.match(String(monitoring.inputs.create), /ansible-playbook --syntax-check [\s\S]*ansible-playbook --check /);
    assert.equal(monitoring.inputs.delete, undefined, "check mode starts no container to remove");
    assert.equal(experiment.monitoring!.grafanaUrl, undefined, "check mode starts no Grafana");
  });

  test("monitoring in deploy mode: the playbook for real, annotated; deleting it runs the remove playbook", async () => {
    const experiment = await build({ ...machines, enable_monitoring: true });
    assert.equal(
      await settled(experiment.monitoring!.grafanaUrl!),
      "http://10.0.0.2:3000",
      "Grafana at Enos' grafana_vip (4th pop_ip: extra_ips[1])",
    );
    const monitoring = registered.find((r) => r.name === "monitoring" && r.custom)!;
    assert.match(
      String(monitoring.inputs.create),
      /ANSIBLE_CALLBACKS_ENABLED='influxdb_events'[\s\S]*\nansible-playbook -i [^\n]*monitoring\.yml'\n/,
    );
    assert.match(String(monitoring.inputs.delete), /\nansible-playbook -i [^\n]*monitoring-remove\.yml'\n/);
  });

  test("backup_on_destroy: a command whose delete backs up every host, InfluxDB included when monitoring is on", async () => {
    await build({ provider: "local", topology, enable_monitoring: true, backup_on_destroy: true });
    const backup = registered.find((r) => r.name === "backup-on-destroy")!;
    const request = JSON.parse(/<<'JSON'\n(.*)\nJSON/.exec(String(backup.inputs.delete))![1]);
    assert.deepEqual(
      request.hosts.map((h: { alias: string }) => h.alias),
      ["grp1-control-1", "grp1-network-1", "grp2-compute-1", "grp3-compute-1"],
    );
    assert.deepEqual(request.influxdb, { alias: "grp1-control-1", container: "enos-influxdb" });
    assert.equal(request.resultsDir, path.join(STATE_DIR, "results"));
  });

  test("static testbed: one probe of every host, no resource that acquires anything", async () => {
    const testbedTypes = (r: { type: string }) =>
      !["Command", "RandomPassword", "RandomBytes", "RsaKeyPair"].includes(r.type);
    await build(machines);
    assert.deepEqual(
      registered.filter((r) => r.custom && testbedTypes(r)).map((r) => r.type),
      ["StaticHostsProbe"],
    );
    const probe = registered.find((r) => r.type === "StaticHostsProbe")!;
    assert.deepEqual(
      (probe.inputs.hosts as { address: string }[]).map((h) => h.address),
      ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    );
  });

  test("the local testbed: kolla in check mode by default; deploy is refused; none has no kolla phase", async () => {
    await build({ provider: "local", topology });
    assert.ok(registered.some((r) => r.name === "kolla-check"));
    await assert.rejects(
      build({ provider: "local", topology, kolla_mode: "deploy" }),
      /kolla_mode: deploy is impossible on namespace hosts/,
    );
    await build({ provider: "local", topology, kolla_mode: "none" });
    assert.ok(!registered.some((r) => r.name.startsWith("kolla")));
  });

  test("machine hosts: an engine after the bridges, each host after it; kolla deploy allowed", async () => {
    const experiment = await build({ provider: { type: "local", hosts: "machine" }, topology, kolla_mode: "deploy" });
    assert.deepEqual(names("LocalHost"), []);
    assert.deepEqual(
      names("MachineHost"),
      ["grp1-control-1", "grp1-network-1", "grp2-compute-1", "grp3-compute-1"].map((alias) => `testbed-${alias}`),
    );
    assert.deepEqual(names("MachineEngine"), ["testbed-engine"]);
    assert.ok(
      dependencies.waitsFor("MachineEngine testbed-engine", "LocalBridges testbed-bridges"),
      "the engine is deleted before the bridges' delete removes its directory",
    );
    assert.ok(dependencies.waitsFor("MachineHost testbed-grp1-control-1", "MachineEngine testbed-engine"));
    const host = registered.find((r) => r.type === "MachineHost")!;
    assert.equal(host.inputs.dockerHost, "unix:///run/enos-x/docker.sock");
    assert.match(
      String(registered.find((r) => r.type === "MachineEngine")!.inputs.tarball),
      /debian-bookworm-\w+\.tar$/,
    );
    assert.ok(registered.some((r) => r.name === "kolla-deploy"));
    assert.deepEqual(
      (await settled(experiment.hosts)).map((h) => h.address),
      ["10.231.0.10", "10.231.0.11", "10.231.0.12", "10.231.0.13"],
    );
  });

  test("kolla check mode: install, passwords, the three files, then one check command; no deploy step", async () => {
    const experiment = await build({ provider: "local", topology, kolla_mode: "check" });
    // One resource per key of passwords.yml, registered when the template is read (at program time when
    // setup's kolla-ansible is on disk, else from the install's output): in their own check below.
    const perKey = (r: { name: string }) => r.name.startsWith("kolla-passwords-");
    // The inventory's precondition is not one of them (checkNames).
    const kolla = registered
      .filter((r) => r.custom && r.name.startsWith("kolla-") && !perKey(r) && !checkNames().includes(r.name))
      .map((r) => `${r.type} ${r.name}`);
    assert.deepEqual(kolla, [
      "Command kolla-ansible",
      "Command kolla-multinode",
      "Command kolla-globals",
      "Command kolla-passwords",
      "Command kolla-check",
    ]);
    assert.deepEqual(
      fileNames().filter((n) => n.startsWith("kolla-")),
      ["kolla-multinode", "kolla-globals", "kolla-passwords"],
    );
    assert.ok(registered.some((r) => !r.custom && r.type === "KollaPasswords" && r.name === "kolla-passwords"));
    const keys = Object.fromEntries(registered.filter(perKey).map((r) => [r.name.slice("kolla-passwords-".length), r]));
    assert.equal(keys.keystone_admin_password.type, "RandomPassword");
    assert.deepEqual(keys.keystone_admin_password.inputs, { length: 40, special: false });
    assert.equal(keys.database_password.type, "RandomPassword");
    assert.equal(keys.nova_ssh_key.type, "RsaKeyPair");
    const check = registered.find((r) => r.name === "kolla-check")!;
    assert.match(inState(check.inputs.create), /ansible -i 'STATE\/graph\/kolla\/multinode' all -m ping/);
    assert.match(String(check.inputs.create), /kolla-ansible deploy .* --check --tags enos-check-only/);
    assert.equal(experiment.kolla?.adminOpenrc, undefined);
    const multinode = registered.find((r) => r.name === "kolla-multinode")!;
    // The kolla files are made from the passwords too, so they are secret.
    assert.match(textOf(multinode.inputs.stdin), /\[control\]\ngrp1-control-1 ansible_host=10\.231\.0\.\d+ /);
    const passwords = registered.find((r) => r.type === "Command" && r.name === "kolla-passwords")!;
    assert.match(inState(passwords.inputs.create), /chmod 600 'STATE\/graph\/kolla\/passwords\.yml\.tmp'/);
    assert.equal(passwords.inputs.logging, "none");
    assert.match(
      textOf(passwords.inputs.stdin),
      /keystone_admin_password: kolla-passwords-keystone_admin_password-value/,
    );
    assert.match(
      textOf(passwords.inputs.stdin),
      /nova_ssh_key:\n {2}private_key: '-----BEGIN RSA PRIVATE KEY-----'\n {2}public_key: ssh-rsa AAAA\n/,
    );
  });

  test("every phase component the experiment registers is in enos destroy's targets (it tears them all down)", async () => {
    await build({
      provider: "local",
      topology,
      kolla_mode: "check",
      dev_cloud: true,
      workload: "workloads/dev-cloud",
      enable_monitoring: true,
      backup_on_destroy: true,
      network_constraints: { enable: true, default_delay: "0ms", default_rate: "40mbit", default_loss: "0%" },
    });
    const { phasesTargets } = await import("../../../cli/targets");
    // A target's pattern names a component type between "**" marks: it covers every URN holding that text,
    // the component's and its parts' (a URN holds its parents' types).
    const covered = phasesTargets("graph")
      .map((t) => /\*\*(enos:[^*]+)\*\*/.exec(t)?.[1])
      .filter((token) => token !== undefined);
    // The experiment holds the testbed too, which enos destroy keeps.
    const phases = [
      ...new Set(
        registered
          .filter((r) => r.token.startsWith("enos:phases:") && r.token !== "enos:phases:Experiment")
          .map((r) => r.token),
      ),
    ];
    assert.ok(phases.includes("enos:phases:DevCloud") && phases.includes("enos:phases:Backup"), phases.join(", "));
    assert.deepEqual(
      phases.filter((t) => !covered.some((pattern) => t.includes(pattern))),
      [],
    );
  });

  test("dev_cloud: Debian's OpenStack in the control host's namespace, its admin-openrc where Kolla's goes, used by init", async () => {
    await build({ provider: "local", topology, kolla_mode: "check" });
    assert.ok(!registered.some((r) => r.name === "dev-cloud"), "off unless asked");
    await build({ provider: "local", topology, kolla_mode: "check", dev_cloud: true, workload: "workloads/dev-cloud" });
    const cloud = registered.find((r) => r.type === "Command" && r.name === "dev-cloud")!;
    // The control host is grp1-control-1, at the address its LocalHost got.
    assert.match(
      inState(cloud.inputs.create),
      /components\/dev-cloud\/up\.sh' 'enos-graph-grp1-control-1' 'STATE\/graph\/dev-cloud' '10\.231\.0\.\d+' 'STATE\/graph\/kolla\/admin-openrc\.sh'$/,
    );
    assert.match(inState(cloud.inputs.delete), /down\.sh' 'STATE\/graph\/dev-cloud'$/);
    const password = registered.find((r) => r.name === "dev-cloud-admin-password")!;
    assert.equal(password.type, "RandomPassword");
    // The password reaches the script in its environment, never on its command line.
    const environment = cloud.inputs.environment;
    assert.deepEqual(
      pulumi.runtime.isRpcSecret(environment) ? pulumi.runtime.unwrapRpcSecret(environment) : environment,
      { DEV_CLOUD_PASSWORD: "dev-cloud-admin-password-value" },
    );
    assert.doesNotMatch(String(cloud.inputs.create), /password-value/);
    const init = registered.find((r) => r.type === "Command" && r.name === "init")!;
    assert.match(inState(init.inputs.create), /source 'STATE\/graph\/kolla\/admin-openrc\.sh'/);
    // The dev cloud's own cirros-like image, not the download.
    assert.equal(
      JSON.parse(/init\.py' '(\{.*\})'$/m.exec(String(init.inputs.create))![1]).image,
      path.join(STATE_DIR, "graph", "dev-cloud", "cirros.qcow2"),
    );
    assert.match(String(registered.find((r) => r.name === "bench-rally-env")!.inputs.create), /admin-openrc\.sh/);
  });

  test("kolla deploy mode: teardown, then the five steps in order, the registry started beside prechecks", async () => {
    await build({ ...machines, registry: { type: "internal" } });
    const [files, checks] = [fileNames(), checkNames()];
    const steps = registered
      .filter(
        (r) =>
          r.type === "Command" &&
          r.name.startsWith("kolla-") &&
          r.name !== "kolla-ansible" &&
          ![...files, ...checks].includes(r.name),
      )
      .map((r) => r.name);
    assert.deepEqual(steps, [
      "kolla-teardown",
      "kolla-bootstrap-servers",
      "kolla-prechecks",
      "kolla-registry",
      "kolla-pull",
      "kolla-deploy",
      "kolla-post-deploy",
    ]);
    for (const [later, earlier] of [
      ["kolla-bootstrap-servers", "kolla-teardown"],
      ["kolla-prechecks", "kolla-bootstrap-servers"],
      ["kolla-registry", "kolla-bootstrap-servers"],
      ["kolla-pull", "kolla-prechecks"],
      ["kolla-pull", "kolla-registry"],
      ["kolla-deploy", "kolla-pull"],
      ["kolla-post-deploy", "kolla-deploy"],
    ])
      assert.ok(dependencies.waitsFor(`Command ${later}`, `Command ${earlier}`), `${later} after ${earlier}`);
    assert.ok(!dependencies.waitsFor("Command kolla-prechecks", "Command kolla-registry"), "side by side");
    const command = (name: string) => registered.find((r) => r.name === name)!.inputs;
    assert.match(
      String(command("kolla-teardown").delete),
      /openstack server delete --wait[\s\S]*kolla-ansible destroy .* --yes-i-really-really-mean-it/,
    );
    assert.match(
      inState(command("kolla-deploy").create),
      /kolla-ansible deploy -i 'STATE\/graph\/kolla\/multinode' --configdir 'STATE\/graph\/kolla'/,
    );
    // The registry VIP: Enos' second pop_ip, the fourth of the five extra_ips.
    assert.match(
      String(command("kolla-registry").create),
      /ip addr replace 10\.0\.0\.4\/32 dev eth0[\s\S]*REGISTRY_HTTP_ADDR=10\.0\.0\.4:4000 /,
    );
    assert.equal(registered.find((r) => r.name === "kolla-registry")!.token, "command:remote:Command");
    // Its connection is checked by a precondition: connectionOf, inside an apply, throws nothing.
    assert.ok(checkNames().includes("kolla-registry-check"), checkNames().join(", "));
    assert.deepEqual(
      command("kolla-registry").connection,
      secret({
        host: "192.0.2.1",
        port: 22,
        user: "root",
        dialErrorLimit: 10,
        perDialTimeout: 15,
        hostKey: "ssh-ed25519 BBBB",
      }),
      "the probed host key, pinned",
    );
  });

  test("registry.images: loaded on the registry's host before the registry starts, pushed once it runs, beside prechecks, before pull", async () => {
    const archive = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "enos-images-")), "images.tar");
    fs.writeFileSync(archive, "an archive");
    try {
      await build({ ...machines, registry: { type: "internal", mirror: "none", images: archive } });
    } finally {
      fs.rmSync(path.dirname(archive), { recursive: true });
    }
    const load = registered.find((r) => r.name === "kolla-registry-images")!;
    assert.equal(load.token, "command:local:Command");
    assert.match(
      String(load.inputs.create),
      new RegExp(
        `ssh -F '[^']+ssh_config' 'ctl' 'umask 077 && cat > /var/tmp/enos-registry-images.tar' < '${archive}'`,
      ),
    );
    assert.match(String(load.inputs.create), /docker load -i \/var\/tmp\/enos-registry-images\.tar/);
    const push = registered.find((r) => r.name === "kolla-registry-push")!;
    assert.equal(push.token, "command:remote:Command");
    assert.match(
      String(push.inputs.create),
      /grep -vxF registry:2 \/var\/lib\/enos-registry-images\.list[\s\S]*docker push -q "10\.0\.0\.4:4000\/\$image"/,
    );
    assert.ok(dependencies.waitsFor("Command kolla-registry-images", "Command kolla-registry-check"));
    assert.ok(dependencies.waitsFor("Command kolla-registry", "Command kolla-registry-images"));
    assert.ok(dependencies.waitsFor("Command kolla-registry-push", "Command kolla-registry"));
    assert.ok(
      !dependencies.waitsFor("Command kolla-prechecks", "Command kolla-registry-images"),
      "prechecks needs no image",
    );
    assert.ok(dependencies.waitsFor("Command kolla-prechecks", "Command kolla-bootstrap-servers"));
    assert.ok(dependencies.waitsFor("Command kolla-pull", "Command kolla-registry-push"));
    assert.ok(dependencies.waitsFor("Command kolla-pull", "Command kolla-prechecks"));
    // Images pushed anew are pulled again, and deploy recreates what runs them; prechecks does not re-run.
    // The triggers hash the passwords: a secret, as the engine gets it.
    const triggersOf = (name: string) => registered.find((r) => r.name === name)!.inputs.triggers;
    for (const step of ["kolla-pull", "kolla-deploy"])
      assert.deepEqual(
        triggersOf(step),
        secret([(triggersOf(step) as { value: string[] }).value[0], "kolla-registry-push-id"]),
      );
    assert.equal((triggersOf("kolla-prechecks") as { value: string[] }).value.length, 1);
  });

  test("registry.store: unpacked as the registry's storage before it starts; a new store restarts it, and pull runs again", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-store-"));
    const [images, store] = [path.join(dir, "registry.tar"), path.join(dir, "store.tar")];
    fs.writeFileSync(images, "registry:2");
    fs.writeFileSync(store, "a store");
    try {
      await build({ ...machines, registry: { type: "internal", mirror: "none", images, store } });
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
    const unpack = registered.find((r) => r.name === "kolla-registry-store")!;
    assert.equal(unpack.token, "command:local:Command");
    assert.match(
      String(unpack.inputs.create),
      new RegExp(
        `'umask 077 && cat > /var/tmp/enos-registry-store\\.tar' < '${store}'[\\s\\S]*tar -x -C /var/lib/enos-registry -f`,
      ),
    );
    assert.ok(dependencies.waitsFor("Command kolla-registry-store", "Command kolla-registry-check"));
    assert.ok(dependencies.waitsFor("Command kolla-registry", "Command kolla-registry-store"));
    const triggers = registered.find((r) => r.name === "kolla-registry")!.inputs.triggers as unknown[];
    assert.equal(triggers.at(-1), "kolla-registry-store-id", "a new store: the registry started anew");
    assert.ok(dependencies.waitsFor("Command kolla-pull", "Command kolla-registry-push"));
  });

  test("a changed kolla variable changes the deploy step's trigger only", async () => {
    const triggers = async (kolla: Record<string, unknown>) => {
      await build({ ...machines, kolla });
      return Object.fromEntries(
        registered
          .filter((r) => r.type === "Command" && r.name.startsWith("kolla-"))
          .map((r) => [r.name, JSON.stringify(r.inputs.triggers)]),
      );
    };
    const before = await triggers({ nova_compute_virt_type: "qemu" });
    const after = await triggers({ nova_compute_virt_type: "kvm" });
    assert.deepEqual(
      Object.keys(before).filter((name) => before[name] !== after[name]),
      ["kolla-deploy"],
    );
    const release = await triggers({ nova_compute_virt_type: "qemu", enable_cinder: "yes" });
    assert.deepEqual(
      Object.keys(before).filter((name) => before[name] !== release[name]),
      ["kolla-pull", "kolla-deploy"],
    );
  });

  test("the Horizon URL: the external VIP, https with external TLS, none without Horizon", async () => {
    const url = async (kolla: Record<string, unknown>) =>
      settled((await build({ ...machines, kolla })).kolla!.horizonUrl);
    assert.match(String(await url({})), /^http:\/\/\d+\.\d+\.\d+\.\d+$/);
    assert.match(String(await url({ kolla_enable_tls_external: "yes" })), /^https:\/\//);
    assert.equal(await url({ enable_horizon: "no" }), undefined);
    assert.equal(await url({ enable_horizon: false }), undefined);
  });

  test("a patch of kolla-ansible (another kolla-ansible) re-runs every deploy step", async () => {
    const patch = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "enos-patch-")), "start.yml");
    fs.writeFileSync(patch, "- name: start mariadb\n");
    const triggers = async (patches: unknown[]) => {
      await build({ ...machines, patches });
      return Object.fromEntries(
        registered
          .filter((r) => r.type === "Command" && r.name.startsWith("kolla-"))
          .map((r) => [r.name, JSON.stringify(r.inputs.triggers)]),
      );
    };
    const unpatched = await triggers([]);
    const patched = await triggers([{ name: "mariadb", src: patch, dst: "ansible/roles/mariadb/tasks/start.yml" }]);
    fs.writeFileSync(patch, "- name: start mariadb, edited\n");
    const edited = await triggers([{ name: "mariadb", src: patch, dst: "ansible/roles/mariadb/tasks/start.yml" }]);
    fs.rmSync(path.dirname(patch), { recursive: true });
    const steps = ["kolla-bootstrap-servers", "kolla-prechecks", "kolla-pull", "kolla-deploy", "kolla-post-deploy"];
    for (const [from, to] of [
      [unpatched, patched],
      [patched, edited],
    ])
      assert.deepEqual(
        Object.keys(from).filter((name) => from[name] !== to[name]),
        ["kolla-ansible", ...steps],
      );
  });
  test("monitoring's containers start once Kolla's bootstrap-servers has installed Docker, before the rest of the deploy", async () => {
    await build({ ...machines, enable_monitoring: true });
    assert.ok(
      dependencies.waitsFor("Command monitoring", "Command kolla-bootstrap-servers"),
      "no docker run before Docker is installed",
    );
    assert.ok(
      dependencies.waitsFor("Command kolla-prechecks", "Command monitoring"),
      "the deploy's annotations land in a running InfluxDB",
    );
    assert.ok(!dependencies.waitsFor("Command kolla-bootstrap-servers", "Command monitoring"));
    // Check mode (the dev stack): no container, the playbook checked before Kolla's check.
    await build({ provider: "local", topology, enable_monitoring: true, kolla_mode: "check" });
    assert.ok(dependencies.waitsFor("Command kolla-check", "Command monitoring"));
  });

  test("network emulation comes after the OpenStack phases (Kolla, the dev cloud, init), benchmarks after it", async () => {
    const constraints = { default_delay: "0ms", default_rate: "10mbit", default_loss: 0, test: true };
    await build({
      provider: "local",
      topology,
      kolla_mode: "check",
      dev_cloud: true,
      workload: "workloads/dev-cloud",
      network_constraints: constraints,
    });
    for (const phase of ["Command kolla-check", "Command dev-cloud", "Command init"]) {
      for (const tc of ["Command tc-host-addresses", "Command tc-grp2-compute-1", "Command tc-test"])
        assert.ok(dependencies.waitsFor(tc, phase), `${tc} after ${phase}`);
    }
    assert.ok(dependencies.waitsFor("Command bench-rally-env", "Command tc-test"));
    const { control, network, compute } = machines.resources;
    await build({
      provider: machines.provider,
      topology: { grp1: { control, network }, grp2: { compute } },
      network_constraints: constraints,
    });
    assert.ok(dependencies.waitsFor("Command tc-ctl", "Command kolla-post-deploy"), "not while Kolla deploys");
    assert.ok(dependencies.waitsFor("Command tc-ctl", "Command init"));
  });

  test("addresses a host holds at tc time (a VIP) are shaped like the host's, and the report names them", async () => {
    const constraints = { default_delay: "0ms", default_rate: "10mbit", default_loss: 0, test: true };
    const first = await build({ provider: "local", topology, network_constraints: constraints });
    heldVip = (await settled(first.network)).vips.internal.address;
    try {
      const experiment = await build({ provider: "local", topology, network_constraints: constraints });
      const plans: HostPlan[] = await settled(experiment.networkEmulation!.plan);
      const toControl = plans.find((p) => p.alias === "grp2-compute-1")!.rules.find((r) => r.dst === "grp1-control-1")!;
      assert.deepEqual(toControl.ips, ["10.231.0.10", "10.232.0.10", heldVip]);
      assert.match(
        String(registered.find((r) => r.name === "tc-grp2-compute-1")!.inputs.stdin),
        new RegExp(`match ip dst ${heldVip.replace(/\./g, "\\.")}/32`),
      );
      const request = JSON.parse(String(registered.find((r) => r.name === "tc-test")!.inputs.stdin));
      assert.deepEqual(request.shaped["grp1-control-1"], ["10.231.0.10", "10.232.0.10", `${heldVip} (vip)`]);
      assert.deepEqual(request.shaped["grp1-network-1"], ["10.231.0.11", "10.232.0.11"]);
    } finally {
      heldVip = "10.231.0.250";
    }
  });

  test("benchmarks re-run when the network emulation's plan changes", async () => {
    const triggers = async (rate: string) => {
      await build({
        provider: "local",
        topology,
        kolla_mode: "check",
        workload: "workloads/dummy",
        network_constraints: { default_delay: "0ms", default_rate: rate, default_loss: 0 },
      });
      return registered
        .filter((r) => r.name.startsWith("bench-run:") || r.name === "bench-rally-summary")
        .map((r) => [r.name, JSON.stringify(r.inputs.triggers)]);
    };
    const before = await triggers("10mbit");
    const after = await triggers("20mbit");
    assert.ok(before.length > 1);
    assert.deepEqual(
      after.map(([name]) => name),
      before.map(([name]) => name),
    );
    assert.deepEqual(
      after.filter(([, t], i) => t === before[i][1]),
      [],
      "every run and the summary",
    );
    assert.deepEqual(await triggers("10mbit"), before, "the same plan, the same triggers");
  });
});
