import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { phasesTargets, tcResetTargets } from "../../cli/targets";
import { destroyBackingUpFirst } from "../../cli/workspace";
import { runBackup } from "../../components/backup/collect";
import type { BackupIndex } from "../../components/backup/plan";
import type { Host } from "../../config/types";
import { localNames } from "../../providers/local/plan";
import { cleanUp, leftovers, recordOf, type TestExperiment, testExperiment } from "../support/harness";

const provider = { type: "local", api_cidr: "10.249.0.0/24", external_cidr: "10.250.0.0/24" };
const topology = { grp1: { default: { control: 1, network: 1 } }, grp2: { default: { compute: 1 } } };
/** Rates only: this kernel has htb but no netem. */
const rates = { enable: true, default_delay: "0ms", default_rate: "40mbit", default_loss: "0%" };
const CONTROL = "grp1-control-1";
const NETWORK = "grp1-network-1";
const COMPUTE = "grp2-compute-1";

const listing = (archive: string) =>
  execFileSync("tar", ["-tzf", archive], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
const newest = (dir: string) => path.join(dir, fs.readdirSync(dir).sort().at(-1)!);
const readIndex = (dir: string): BackupIndex => JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
const archive = (index: BackupIndex, host: string, kind: string) =>
  index.hosts.find((h) => h.host === host)!.archives.find((a) => a.kind === kind);

describe("backup on the local testbed", { timeout: 600_000 }, () => {
  let local: TestExperiment;
  let hosts: Host[];
  let sshConfig: string;
  const sshdPid = (alias: string) =>
    fs.readFileSync(path.join(local.stateDir, local.name, "local", "hosts", alias, "sshd.pid"), "utf8").trim();

  /**
   * Gives one host files of its own: namespace hosts share this machine's filesystem, but each sshd
   * runs in the mount namespace `ip netns exec` made for it, where an overlay on /etc and /var/log
   * shows files to that host's SSH sessions only and leaves the machine's untouched.
   */
  function giveFiles(alias: string, files: Record<string, string>) {
    const scratch = path.join(local.dir, "overlay", alias);
    fs.mkdirSync(scratch, { recursive: true });
    const script = [
      "set -e",
      `mount -t tmpfs enos-test '${scratch}'`,
      ...["/etc", "/var/log"].map(
        (dir, i) =>
          `mkdir -p '${scratch}/${i}/u' '${scratch}/${i}/w' && ` +
          `mount -t overlay overlay -o lowerdir=${dir},upperdir='${scratch}/${i}/u',workdir='${scratch}/${i}/w' ${dir}`,
      ),
      ...Object.entries(files).map(
        ([file, text]) => `mkdir -p '${path.dirname(file)}' && printf '%s' '${text}' > '${file}'`,
      ),
    ].join("\n");
    execFileSync("nsenter", ["-t", sshdPid(alias), "-m", "bash", "-c", script]);
  }

  before(async () => {
    local = await testExperiment(`op${process.pid}b`, { provider, topology });
    const up = await local.stack.up({ parallel: 64 });
    hosts = (await recordOf(local.stack)).hosts;
    sshConfig = up.outputs.sshConfig.value;
    giveFiles(CONTROL, {
      "/var/log/kolla/nova/nova-api.log": "nova-api started\n",
      "/etc/kolla/globals.yml": "kolla_base_distro: debian\n",
    });
    giveFiles(NETWORK, { "/etc/kolla/globals.yml": "kolla_base_distro: debian\n" });
    fs.mkdirSync(path.join(local.dir, "results", local.name, "rally", "boot"), { recursive: true });
    fs.writeFileSync(path.join(local.dir, "results", local.name, "rally", "boot", "report.json"), "{}\n");
  });
  after(async () => cleanUp(local));

  // As with monitoring on: its InfluxDB container would run on the control host.
  const backup = () =>
    runBackup({
      stack: local.name,
      hosts,
      sshConfig,
      resultsDir: path.join(local.dir, "results", local.name),
      influxdb: { alias: CONTROL, container: "enos-influxdb" },
    });

  test("one archive per host and kind that exists, with the expected files; the index lists what is missing", async () => {
    assert.ok(
      !fs.existsSync("/etc/kolla") && !fs.existsSync("/var/log/kolla"),
      "the hosts' files stay in their own mount namespaces",
    );
    const index = await backup();
    const files = fs.readdirSync(index.dir).sort();
    assert.deepEqual(files, [
      `${CONTROL}-kolla-conf.tar.gz`,
      `${CONTROL}-kolla-logs.tar.gz`,
      `${CONTROL}-tc.tar.gz`,
      `${NETWORK}-kolla-conf.tar.gz`,
      `${NETWORK}-tc.tar.gz`,
      `${COMPUTE}-tc.tar.gz`,
      "index.json",
      "index.md",
      "operator-rally.tar.gz",
    ]);
    assert.deepEqual(listing(path.join(index.dir, `${CONTROL}-kolla-logs.tar.gz`)), [
      "kolla/",
      "kolla/nova/",
      "kolla/nova/nova-api.log",
    ]);
    assert.deepEqual(listing(path.join(index.dir, `${NETWORK}-kolla-conf.tar.gz`)), ["kolla/", "kolla/globals.yml"]);
    // The hosts' configuration holds the services' passwords: its owner's only, even with a umask of 022.
    assert.equal(fs.statSync(index.dir).mode & 0o777, 0o700);
    for (const file of files.filter((f) => f.endsWith(".tar.gz"))) {
      assert.equal(fs.statSync(path.join(index.dir, file)).mode & 0o777, 0o600, file);
    }
    assert.deepEqual(listing(path.join(index.dir, `${COMPUTE}-tc.tar.gz`)), [
      "tc/",
      "tc/eth0-class.txt",
      "tc/eth0-filter.txt",
      "tc/eth0-qdisc.txt",
      "tc/eth1-class.txt",
      "tc/eth1-filter.txt",
      "tc/eth1-qdisc.txt",
    ]);
    const qdisc = execFileSync("tar", ["-xzOf", path.join(index.dir, `${COMPUTE}-tc.tar.gz`), "tc/eth0-qdisc.txt"], {
      encoding: "utf8",
    });
    assert.match(qdisc, /qdisc \S+ 0: root .*\n Sent \d+ bytes/, "tc -s output of the host's eth0");
    assert.deepEqual(listing(path.join(index.dir, "operator-rally.tar.gz")), [
      "rally/",
      "rally/boot/",
      "rally/boot/report.json",
    ]);

    assert.deepEqual(index.failedHosts, []);
    const onDisk = readIndex(index.dir);
    assert.deepEqual(onDisk, index);
    assert.deepEqual(archive(onDisk, NETWORK, "kolla-logs"), {
      kind: "kolla-logs",
      file: `${NETWORK}-kolla-logs.tar.gz`,
      status: "missing",
      detail: "/var/log/kolla: no such directory",
    });
    assert.equal(archive(onDisk, COMPUTE, "kolla-conf")?.detail, "/etc/kolla: no such directory");
    // This machine has a docker client but no engine.
    for (const h of [CONTROL, NETWORK, COMPUTE]) assert.equal(archive(onDisk, h, "docker")?.status, "missing");
    assert.equal(archive(onDisk, "operator", "shaker")?.status, "missing");
    assert.equal(archive(onDisk, CONTROL, "influxdb")?.detail, "container enos-influxdb: not running");
    assert.equal(archive(onDisk, NETWORK, "influxdb"), undefined, "InfluxDB is on the monitoring host only");
    const collected = archive(onDisk, CONTROL, "kolla-logs")!;
    assert.equal(collected.bytes, fs.statSync(path.join(index.dir, collected.file)).size);
    const md = fs.readFileSync(path.join(index.dir, "index.md"), "utf8");
    assert.match(
      md,
      new RegExp(`\\| ${NETWORK} \\| kolla-logs \\| — \\| missing \\| /var/log/kolla: no such directory \\|`),
    );
  });

  test("backup_on_destroy: tc --reset takes no backup and leaves it armed; enos destroy backs up, then tears the phases down", async () => {
    await local.setConfig({ provider, topology, backup_on_destroy: true, network_constraints: rates });
    assert.equal((await local.stack.up({ parallel: 64 })).summary.result, "succeeded");
    const backups = path.join(local.dir, "results", local.name, "backup");
    const taken = () => (fs.existsSync(backups) ? fs.readdirSync(backups).length : 0);
    const before = taken();
    const qdisc = () =>
      execFileSync(
        "ip",
        ["netns", "exec", `${localNames(local.name).namespacePrefix}${COMPUTE}`, "tc", "qdisc", "show", "dev", "eth0"],
        { encoding: "utf8" },
      );
    assert.match(qdisc(), /qdisc htb 1: root/);
    await new Promise((r) => setTimeout(r, 1100)); // a new timestamp directory, were a backup taken
    const reset = await local.stack.destroy({ parallel: 64, target: tcResetTargets(local.name) });
    assert.equal(reset.summary.result, "succeeded");
    assert.doesNotMatch(qdisc(), /htb/, "the rules are gone");
    assert.equal(taken(), before, "tc --reset took no backup");
    const urns = ((await local.stack.exportStack()).deployment.resources as { urn: string }[]).map((r) => r.urn);
    assert.ok(
      urns.some((u) => u.endsWith("::backup-on-destroy")),
      "the backup on destroy is still armed",
    );

    assert.equal((await local.stack.up({ parallel: 64 })).summary.result, "succeeded");
    await new Promise((r) => setTimeout(r, 1100));
    const phases = await destroyBackingUpFirst(local.stack, { parallel: 64, target: phasesTargets(local.name) });
    assert.equal(phases.summary.result, "succeeded");
    assert.equal(taken(), before + 1, "enos destroy backed up");
    const tc = execFileSync("tar", ["-xzOf", path.join(newest(backups), `${COMPUTE}-tc.tar.gz`), "tc/eth0-qdisc.txt"], {
      encoding: "utf8",
    });
    assert.match(tc, /qdisc htb 1: root/, "taken before the rules were reset");
    assert.doesNotMatch(qdisc(), /htb/);
    assert.ok(
      leftovers(local.name, local.stateDir).some((l) => l.startsWith("netns")),
      "the testbed stays",
    );
  });

  test("backup_on_destroy: enos destroy --hard backs up first, tc rules and files still there, then releases everything", async () => {
    await local.setConfig({ provider, topology, backup_on_destroy: true, network_constraints: rates });
    const up = await local.stack.up({ parallel: 64 });
    assert.equal(up.summary.result, "succeeded");
    const backups = path.join(local.dir, "results", local.name, "backup");
    const before = fs.readdirSync(backups).length;
    await new Promise((r) => setTimeout(r, 1100));
    const destroyed = await destroyBackingUpFirst(local.stack, { parallel: 64 });
    assert.equal(destroyed.summary.result, "succeeded");
    assert.equal(fs.readdirSync(backups).length, before + 1);
    const index = readIndex(newest(backups));
    assert.deepEqual(index.failedHosts, []);
    assert.deepEqual(listing(path.join(index.dir, `${CONTROL}-kolla-conf.tar.gz`)), ["kolla/", "kolla/globals.yml"]);
    // Taken before the network emulation phase reset the interfaces.
    const qdisc = execFileSync("tar", ["-xzOf", path.join(index.dir, `${COMPUTE}-tc.tar.gz`), "tc/eth0-qdisc.txt"], {
      encoding: "utf8",
    });
    assert.match(qdisc, /qdisc htb 1: root/);
    assert.deepEqual(leftovers(local.name, local.stateDir), []);
  });
  test("a host that cannot be reached is reported failed; the others are still collected", async () => {
    await local.setConfig({ provider, topology });
    const up = await local.stack.up({ parallel: 64 });
    hosts = (await recordOf(local.stack)).hosts;
    sshConfig = up.outputs.sshConfig.value;
    giveFiles(CONTROL, { "/var/log/kolla/nova/nova-api.log": "nova-api started\n" });
    process.kill(Number(sshdPid(COMPUTE)));
    await new Promise((r) => setTimeout(r, 1100)); // a new timestamp directory
    const index = await backup();
    assert.deepEqual(index.failedHosts, [COMPUTE]);
    const failed = index.hosts.find((h) => h.host === COMPUTE)!;
    assert.equal(failed.status, "failed");
    assert.match(failed.error!, /Connection refused/);
    assert.ok(fs.existsSync(path.join(index.dir, `${CONTROL}-kolla-logs.tar.gz`)));
    assert.ok(fs.existsSync(path.join(index.dir, `${NETWORK}-tc.tar.gz`)));
    assert.ok(!fs.readdirSync(index.dir).some((f) => f.startsWith(COMPUTE)), "no partial archive of the failed host");
    assert.match(fs.readFileSync(path.join(index.dir, "index.md"), "utf8"), new RegExp(`hosts failed: ${COMPUTE} \\(`));
  });
});
