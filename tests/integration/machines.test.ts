import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Host } from "../../config/types";
import {
  PUSHED_ARCHIVE,
  renderRegistryLoadScript,
  renderRegistryPushScript,
  renderRegistryRemovalScript,
  renderRegistryScript,
  renderRegistryStoreScript,
  STORE_ARCHIVE,
} from "../../kolla/registry";
import { machineTarball } from "../../providers/local/machine";
import { localNames, localNetwork } from "../../providers/local/plan";
import { cleanUp, leftovers, recordOf, type TestExperiment, testExperiment } from "../support/harness";

// Subnets 10.181/10.182 are this file's.
const provider = { type: "local", hosts: "machine", api_cidr: "10.181.0.0/24", external_cidr: "10.182.0.0/24" };
const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" });

/** What of the machine a host could change: machine-wide kernel settings, the cgroup2 mount, cgroups outside ours. */
function machineState(cgroupParent: string) {
  return {
    fileMax: fs.readFileSync("/proc/sys/fs/file-max", "utf8").trim(),
    nrOpen: fs.readFileSync("/proc/sys/fs/nr_open", "utf8").trim(),
    cgroupMounts: sh("awk '/ - cgroup2? / {print $5, $6, $NF}' /proc/self/mountinfo | sort"),
    // Only the top of each hierarchy: other engines (another test's, a fresh-machine run's) make theirs below.
    topCgroups: sh(`ls -d /sys/fs/cgroup/*/*/ | grep -v '/${cgroupParent}/$' | sort`),
  };
}

/**
 * Two machine hosts through the Automation API: each a container of the stack's own engine booting
 * systemd, reached over the testbed's network by sshd, running containers in its own Docker engine;
 * destroy leaves nothing on the machine. Logs the boot time and memory of each idle host.
 */
describe("local testbed with machine hosts: systemd, sshd and Docker in each", { timeout: 1_200_000 }, () => {
  let local: TestExperiment;
  let hosts: Host[];
  let sshConfig: string;
  let dir: string;
  const name = `mh${process.pid}`;
  const names = localNames(name);
  const machineBefore = machineState(names.cgroupParent);
  /** A command on a host over ssh, its stdin from a file if given. */
  const ssh = (host: Host, command: string, stdinFile?: string) => {
    const stdin = stdinFile === undefined ? "pipe" : fs.openSync(stdinFile, "r");
    try {
      return spawnSync("ssh", ["-F", sshConfig, host.alias, command], {
        encoding: "utf8",
        timeout: 300_000,
        stdio: [stdin, "pipe", "pipe"],
      });
    } finally {
      if (typeof stdin === "number") fs.closeSync(stdin);
    }
  };
  const engine = (args: string) => sh(`DOCKER_HOST=unix://${names.engineRunDir}/docker.sock docker ${args}`);

  before(async () => {
    dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "enos-machines-"));
    // All in one: control, network and storage on the control host; kolla_mode none does not read it.
    const inventory = path.join(dir, "inventory");
    fs.writeFileSync(inventory, "[control]\n[compute]\n[network:children]\ncontrol\n[storage:children]\ncontrol\n");
    local = await testExperiment(name, { provider, resources: { control: 1, compute: 1 }, inventory });
    const start = Date.now();
    await local.stack.up({ parallel: 64 });
    console.log(`up (engine, image import, 2 hosts booted): ${((Date.now() - start) / 1000).toFixed(1)} s`);
    const record = await recordOf(local.stack);
    hosts = record.hosts;
    sshConfig = record.sshConfig;
  });

  after(async () => {
    await cleanUp(local);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("systemd runs on each host, with its own name and filesystem, reached by sshd on the testbed's network", () => {
    assert.equal(hosts.length, 2);
    for (const host of hosts) {
      assert.match(host.address, /^10\.181\.0\.\d+$/);
      const run = ssh(host, "systemctl is-system-running; hostname; ip -o -4 addr show eth1 | awk '{print $4}'");
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split("\n"), ["running", host.alias, `${host.ips[1]}/24`]);
      const boot = ssh(host, "systemd-analyze | head -1");
      const memory = engine(`stats --no-stream --format '{{.MemUsage}}' ${host.alias}`).trim();
      console.log(`${host.alias}: ${boot.stdout.trim()}; idle memory ${memory}`);
    }
    const [one, two] = hosts;
    assert.equal(ssh(one, "echo mine > /root/only-here").status, 0);
    assert.equal(ssh(two, "test -e /root/only-here").status, 1, "the other host does not see it");
    assert.equal(fs.existsSync("/root/only-here"), false, "nor does the machine");
    assert.equal(ssh(two, `bash -c '</dev/tcp/${one.address}/22'`).status, 0, "hosts reach each other's sshd");
  });

  test("a host's Docker engine runs containers on the host's network, privileged ones and Kolla's ulimits too", () => {
    const [host] = hosts;
    const load = ssh(host, "docker import - enos-machine", machineTarball());
    assert.equal(load.status, 0, load.stderr);
    for (const options of ["", "--privileged", "--ulimit nofile=1048576:1048576"]) {
      const run = ssh(host, `docker run --rm --network host ${options} enos-machine true`);
      assert.equal(run.status, 0, `docker run ${options}: ${run.stderr}`);
    }
    const seen = ssh(host, "docker run --rm --network host enos-machine ip -o -4 addr show eth0");
    assert.match(seen.stdout, new RegExp(`${host.address.replace(/\./g, "\\.")}/24`), "the host's own interface");
  });

  test("the internal registry phase on a host: a registry at the VIP, registry.images pushed, the other host pulls; then from a registry.store", async () => {
    const [one, two] = hosts;
    const vip = localNetwork(provider.api_cidr, provider.external_cidr).vips.registry.address;
    const registry = { type: "internal" as const, port: 4000, mirror: "none", ceph: false };
    const place = { address: vip, device: one.interfaces.api };
    // What bootstrap-servers does with docker_registry_insecure: both engines trust the registry over HTTP.
    for (const host of [one, two]) {
      const insecure = ssh(
        host,
        `python3 -c 'import json; f = "/etc/docker/daemon.json"; d = json.load(open(f)); ` +
          `d["insecure-registries"] = ["${vip}:4000"]; json.dump(d, open(f, "w"))' && systemctl restart docker`,
      );
      assert.equal(insecure.status, 0, insecure.stderr);
    }
    // registry.images: a docker save archive (made here by the stack's own engine) holding registry:2, which
    // cannot be pulled here (the same program, distribution, from Debian, in an image of the machine's root
    // filesystem with registry:2's configuration), and an image of one static program, as kolla's would be.
    const tiny = path.join(dir, "tiny.tar");
    const archive = path.join(dir, "images.tar");
    sh(`tar -C /bin -cf ${tiny} busybox`);
    engine(
      `import --change 'CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]' ${machineTarball()} registry:2`,
    );
    engine(`import --change 'ENTRYPOINT ["/busybox"]' ${tiny} openstack.kolla/tiny:2026.1`);
    engine(`save -o ${archive} registry:2 openstack.kolla/tiny:2026.1`);
    // The phase's three steps: load the archive on the registry's host, start the registry, push.
    const loaded = spawnSync(
      "bash",
      ["-c", renderRegistryLoadScript(archive, { config: sshConfig, alias: one.alias })],
      { encoding: "utf8", timeout: 300_000 },
    );
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.equal(ssh(one, `test -e ${PUSHED_ARCHIVE}`).status, 1, "the archive's copy is removed");
    const started = ssh(one, renderRegistryScript(registry, place));
    assert.equal(started.status, 0, started.stderr);
    const answers = () =>
      ssh(two, `python3 -c 'import urllib.request; urllib.request.urlopen("http://${vip}:4000/v2/", timeout=2)'`)
        .status;
    for (let i = 0; i < 50 && answers() !== 0; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(answers(), 0, "the registry answers at the VIP from the other host");
    const pushed = ssh(one, renderRegistryPushScript(registry, place));
    assert.equal(pushed.status, 0, pushed.stderr);
    const catalog = ssh(
      two,
      `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://${vip}:4000/v2/_catalog").read().decode())'`,
    );
    assert.deepEqual(JSON.parse(catalog.stdout), { repositories: ["openstack.kolla/tiny"] }, "registry:2 not pushed");
    const image = `${vip}:4000/openstack.kolla/tiny:2026.1`;
    const pulled = ssh(
      two,
      `docker pull -q ${image} >/dev/null && docker run --rm --network host ${image} echo pulled`,
    );
    assert.deepEqual([pulled.status, pulled.stdout.trim()], [0, "pulled"], pulled.stderr);
    // registry.store: that registry's storage, archived, is what a registry made anew starts from.
    const store = path.join(dir, "store.tar");
    sh(`ssh -F ${sshConfig} ${one.alias} 'tar -C /var/lib/enos-registry -cf - docker' > ${store}`);
    assert.equal(ssh(one, renderRegistryRemovalScript(registry, place)).status, 0);
    assert.equal(ssh(one, "rm -rf /var/lib/enos-registry && docker image rm -f " + image).status, 0);
    const unpacked = spawnSync(
      "bash",
      ["-c", renderRegistryStoreScript(store, { config: sshConfig, alias: one.alias })],
      {
        encoding: "utf8",
        timeout: 300_000,
      },
    );
    assert.equal(unpacked.status, 0, unpacked.stderr);
    assert.equal(ssh(one, `test -e ${STORE_ARCHIVE}`).status, 1, "the store's copy is removed");
    assert.equal(ssh(one, renderRegistryScript(registry, place)).status, 0);
    for (let i = 0; i < 50 && answers() !== 0; i++) await new Promise((r) => setTimeout(r, 200));
    const again = ssh(
      two,
      `docker image rm -f ${image} >/dev/null; docker pull -q ${image} >/dev/null && docker run --rm --network host ${image} echo again`,
    );
    assert.deepEqual([again.status, again.stdout.trim()], [0, "again"], again.stderr);
    // An archive that is no registry's storage says so.
    const notStore = path.join(dir, "not-a-store.tar");
    sh(`tar -C /bin -cf ${notStore} true`);
    const refused = spawnSync(
      "bash",
      ["-c", renderRegistryStoreScript(notStore, { config: sshConfig, alias: one.alias })],
      {
        encoding: "utf8",
      },
    );
    assert.notEqual(refused.status, 0);
    assert.match(
      refused.stderr,
      /enos: registry\.store holds no registry storage \(docker\/registry\/v2\/repositories\)/,
    );
    const removed = ssh(one, renderRegistryRemovalScript(registry, place));
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal(ssh(one, "docker ps -aq --filter name=enos_registry").stdout.trim(), "", "the registry is gone");
    assert.doesNotMatch(ssh(one, "ip -o addr").stdout, new RegExp(`${vip.replace(/\./g, "\\.")}/32`), "so is the VIP");
  });

  test("the machine's settings stay as they were: kernel parameters read-only on hosts, cgroups below ours", () => {
    const [host] = hosts;
    const sysctl = ssh(host, "sysctl -w fs.file-max=1000000");
    assert.notEqual(sysctl.status, 0, "fs.file-max is the machine's");
    assert.equal(
      ssh(host, "sysctl -qw net.ipv4.ip_forward=1").status,
      0,
      "the host's own network namespace is its own",
    );
    assert.deepEqual(machineState(names.cgroupParent), machineBefore);
  });

  test("destroy leaves no container, engine process, mount, veth, cgroup or file", async () => {
    await local.stack.destroy({ parallel: 64 });
    assert.deepEqual(leftovers(local.name, local.stateDir), []);
    assert.deepEqual(machineState(names.cgroupParent), machineBefore);
  });
});
