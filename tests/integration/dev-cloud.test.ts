import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { runBackup } from "../../components/backup/collect";
import { devCloudSource } from "../../components/dev-cloud";
import { renderInitCommand } from "../../components/init/script";
import { PROJECT_DIR } from "../../config/paths";
import type { Host, TestbedNetwork } from "../../config/types";
import type { SummaryRow } from "../../workloads/rally-summary";
import { exposedFiles, holdingSecret, namespacePids } from "../support/dev-cloud-checks";
import { cleanUp, leftovers, recordOf, type TestExperiment, testExperiment } from "../support/harness";
import { type OpenstackShell, openrcEnv, openstackShell } from "../support/openstack-shell";

const provider = { type: "local", api_cidr: "10.235.0.0/24", external_cidr: "10.236.0.0/24" };
const resources = { control: 1, network: 1, compute: 1 };
const CONTROL = "control-1";
const BIN = path.join(PROJECT_DIR, ".venv", "bin");
/** Every object init makes or could make, as "kind name id", read through openstacksdk in one process. */
const LIST_OBJECTS = `import json, openstack
c = openstack.connect()
kinds = {"role": c.identity.roles(), "image": c.image.images(), "flavor": c.compute.flavors(), "network": c.network.networks(),
         "subnet": c.network.subnets(), "router": c.network.routers(), "port": c.network.ports(), "rule": c.network.security_group_rules(),
         "server": c.compute.servers(all_projects=True)}
print(json.dumps(sorted(f"{kind} {o.name} {o.id}" for kind, objects in kinds.items() for o in objects)))`;

/**
 * The dev cloud (Debian's OpenStack in the control host's namespace), stood up once for the file by
 * a real `up` of the experiment, then used by init, Rally, backup and destroy as a deployed cloud.
 */
describe("dev cloud: init, Rally, backup and destroy against live OpenStack APIs", { timeout: 1_800_000 }, () => {
  let cloud: TestExperiment;
  let openrc: string;
  let hosts: Host[];
  let network: TestbedNetwork;
  let sshConfig: string;
  /** How long the init phase took in the first `up` (Pulumi's "init created (Ns)"). */
  let initSeconds: string | undefined;
  const cloudDir = () => path.join(cloud.stateDir, cloud.name, "dev-cloud");
  /** The openstack client as the admin-openrc's admin. */
  let shell: OpenstackShell | undefined;
  const openstack = (...args: string[]) => shell!.run(...args);

  /** The cloud's objects (LIST_OBJECTS), as the admin sees them. */
  const objects = (): string[] =>
    JSON.parse(
      execFileSync("bash", ["-c", `set -a; . "$OPENRC"; set +a; exec "${BIN}/python" -c "$0"`, LIST_OBJECTS], {
        encoding: "utf8",
        env: { ...process.env, OPENRC: openrc },
      }),
    );

  /** Runs init's command as the phase renders it; `created`: its lines about what it made. */
  function runInit() {
    const command = renderInitCommand(
      { openrc, image: path.join(cloudDir(), "cirros.qcow2"), external: network.external, pollInterval: 1 },
      BIN,
    );
    const started = Date.now();
    const result = spawnSync("bash", ["-c", command], { encoding: "utf8" });
    return {
      ...result,
      seconds: (Date.now() - started) / 1000,
      created: result.stdout.split("\n").filter((l) => l.startsWith("created ")),
    };
  }

  before(async () => {
    cloud = await testExperiment(`dc${process.pid}`, {});
    // The dev stack's workload, fewer iterations, the cirros-like image by its absolute path.
    const workload = path.join(cloud.dir, "workload");
    fs.cpSync(path.join(PROJECT_DIR, "workloads", "dev-cloud"), workload, { recursive: true });
    const runYml = path.join(workload, "run.yml");
    fs.writeFileSync(
      runYml,
      fs
        .readFileSync(runYml, "utf8")
        .replace("times: 3", "times: 2")
        .replace(
          /image_location: .*/,
          `image_location: ${path.join(cloud.stateDir, cloud.name, "dev-cloud", "cirros.qcow2")}`,
        ),
    );
    await cloud.setConfig({ provider, resources, kolla_mode: "check", dev_cloud: true, workload });
    const up = await cloud.stack.up({ parallel: 64 });
    assert.equal(up.summary.result, "succeeded");
    initSeconds = /command:local:Command init created \((\d+)s\)/.exec(up.stdout)?.[1];
    // What `pulumi up` ends with: init's last word.
    assert.match(String(up.outputs.smokeCheck?.value), /^smoke check passed: an m1\.tiny \S+ server became ACTIVE/);
    // Shown as it is at the end of `pulumi up`, not as "[secret]" (the cloud's password is one).
    assert.equal(up.outputs.smokeCheck.secret, false);
    const record = await recordOf(cloud.stack);
    hosts = record.hosts;
    network = record.network;
    sshConfig = up.outputs.sshConfig.value;
    openrc = path.join(cloud.stateDir, cloud.name, "kolla", "admin-openrc.sh");
    shell = openstackShell(openrcEnv(openrc));
  });
  after(async () => {
    shell?.close();
    await cleanUp(cloud);
  });

  test("up stands the cloud up in the control host's namespace, with an admin-openrc where Kolla's goes", () => {
    const address = hosts.find((h) => h.alias === CONTROL)!.address;
    assert.match(
      fs.readFileSync(openrc, "utf8"),
      new RegExp(`OS_AUTH_URL=http://${address.replace(/\./g, "\\.")}:5000/v3`),
    );
    assert.equal(fs.statSync(openrc).mode & 0o077, 0, "the admin-openrc holds the password: its owner's only");
    // Every daemon is in the control host's namespace.
    const namespacePids = execFileSync("ip", ["netns", "pids", `enos-${cloud.name}-${CONTROL}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    for (const file of fs
      .readdirSync(path.join(cloudDir(), "run"))
      .filter((f) => /^[a-z-]+\.pid$/.test(f) && !f.includes("." + "mysqld"))) {
      assert.ok(
        namespacePids.includes(fs.readFileSync(path.join(cloudDir(), "run", file), "utf8").trim()),
        `${file} in the namespace`,
      );
    }
    assert.deepEqual(
      openstack("compute", "service", "list", "-f", "value", "-c", "Binary", "-c", "State").trim().split("\n").sort(),
      ["nova-compute up", "nova-conductor up", "nova-scheduler up"],
    );
  });

  test("the admin password is in no daemon's environment or command line; the cloud's files are root's only", () => {
    const password = /^export OS_PASSWORD='(.+)'$/m.exec(fs.readFileSync(openrc, "utf8"))![1];
    const pids = namespacePids(`enos-${cloud.name}-${CONTROL}`);
    assert.ok(pids.length > 20, `${pids.length} processes in the control host's namespace`);
    assert.deepEqual(holdingSecret(pids, password), []);
    assert.deepEqual(exposedFiles(cloudDir()), []);
  });

  test("init made its objects and its smoke check passed", async (t) => {
    t.diagnostic(`init phase in the first up: ${initSeconds} s`);
    const outputs = await cloud.stack.outputs();
    assert.ok(outputs.benchmarkSummary, "the benchmarks ran after init");
    assert.deepEqual(openstack("flavor", "list", "-f", "value", "-c", "Name").trim().split("\n").sort(), [
      "m1.large",
      "m1.medium",
      "m1.small",
      "m1.tiny",
      "m1.xlarge",
    ]);
    assert.deepEqual(openstack("network", "list", "-f", "value", "-c", "Name").trim().split("\n").sort(), [
      "private",
      "public",
    ]);
    assert.match(openstack("image", "show", "cirros.uec", "-f", "value", "-c", "status"), /active/);
    assert.equal(
      openstack("server", "list", "--all-projects", "-f", "value").trim(),
      "",
      "the smoke server is deleted",
    );
  });

  test("a second init creates nothing but the smoke check's server", (t) => {
    const before = objects();
    const second = runInit();
    t.diagnostic(`second init: ${second.seconds.toFixed(1)} s`);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /smoke check passed/);
    assert.deepEqual(second.created, ["created server enos-smoke-check"]);
    // The cloud agrees: the same objects with the same ids, the smoke server gone.
    assert.deepEqual(objects(), before);
  });

  test("an image an upload left queued is deleted and uploaded again, saying so; then the smoke boot passes", () => {
    const id = (name: string) => openstack("image", "show", name, "-f", "value", "-c", "id").trim();
    const active = id("cirros.uec");
    openstack("image", "delete", active);
    // What an upload that never came leaves: Glance's record, no data (Glance's POST /v2/images alone;
    // the openstack client always uploads, from stdin when it has no file).
    const create =
      "import openstack, sys; image = openstack.connect().image.post('/images', json={'name': 'cirros.uec', " +
      "'disk_format': 'qcow2', 'container_format': 'bare', 'visibility': 'public'}); image.raise_for_status(); " +
      "sys.stdout.write(image.json()['id'])";
    const queued = execFileSync(
      "bash",
      ["-c", `set -a; . "$OPENRC"; set +a; exec "${path.join(BIN, "python")}" -c "$CREATE"`],
      { encoding: "utf8", env: { ...process.env, OPENRC: openrc, CREATE: create } },
    ).trim();
    assert.match(openstack("image", "show", queued, "-f", "value", "-c", "status"), /queued/);
    const again = runInit();
    assert.equal(again.status, 0, again.stderr);
    const said =
      `image cirros\\.uec ${queued} is queued, not active: deleting it, to upload it again\n` +
      "created image cirros\\.uec";
    assert.match(again.stdout, new RegExp(`^${said}$`, "m"));
    assert.match(again.stdout, /smoke check passed/);
    const images = openstack("image", "list", "--name", "cirros.uec", "-f", "value", "-c", "ID", "-c", "Status")
      .trim()
      .split("\n");
    assert.equal(images.length, 1, images.join("; "));
    assert.match(images[0], / active$/);
    assert.notEqual(images[0].split(" ")[0], queued);
  });

  test("Rally's OpenStack scenarios ran for real, every iteration a success", () => {
    const resultsDir = path.join(cloud.dir, "results", cloud.name);
    const rows: SummaryRow[] = JSON.parse(fs.readFileSync(path.join(resultsDir, "rally", "summary.json"), "utf8"));
    assert.deepEqual(
      rows.map((r) => [r.workload, r.iterations, r.successRate]),
      [
        ["Dummy.dummy", 2, 1],
        ["Authenticate.keystone", 2, 1],
        ["KeystoneBasic.create_delete_user", 2, 1],
        ["GlanceImages.create_and_delete_image", 2, 1],
        ["NeutronNetworks.create_and_delete_networks", 2, 1],
        ["NovaServers.boot_and_delete_server", 2, 1],
      ],
    );
    for (const row of rows.slice(1))
      assert.ok(row.duration && row.duration.min > 0, `${row.workload} took time against the cloud`);
  });

  test("a smoke boot no host can fit fails the init phase with Nova's fault", async () => {
    // m1.tiny made anew far larger than the fake driver's host: the scheduler finds no host.
    openstack("flavor", "delete", "m1.tiny");
    openstack("flavor", "create", "--public", "--ram", "100000000", "--disk", "1", "--vcpus", "1", "m1.tiny");
    try {
      // The init command, not its component of the same name.
      const init = (await cloud.stack.exportStack()).deployment.resources.find(
        (r: { urn: string; custom?: boolean }) => r.custom && r.urn.endsWith("::init"),
      )!.urn;
      await assert.rejects(
        cloud.stack.up({ parallel: 64, replace: [init] }),
        /smoke check failed: server enos-smoke-check .* is ERROR .*fault: .*No valid host was found/s,
      );
      assert.equal(
        openstack("server", "list", "--all-projects", "-f", "value").trim(),
        "",
        "the failed server is deleted",
      );
    } finally {
      openstack("flavor", "delete", "m1.tiny");
      openstack("flavor", "create", "--public", "--ram", "512", "--disk", "1", "--vcpus", "1", "m1.tiny");
    }
  });

  test("backup takes the dev cloud's logs and configs as the control host's kolla-logs and kolla-conf", async () => {
    const index = await runBackup({
      stack: cloud.name,
      hosts,
      sshConfig,
      resultsDir: path.join(cloud.dir, "results", cloud.name),
      devCloud: devCloudSource(cloud.name, hosts, cloud.stateDir),
    });
    const control = index.hosts.find((h) => h.host === CONTROL)!;
    assert.equal(control.status, "ok");
    const logs = path.join(index.dir, `${CONTROL}-kolla-logs.tar.gz`);
    const listing = execFileSync("tar", ["-tzf", logs], { encoding: "utf8" });
    for (const service of ["keystone", "glance-api", "nova-api", "nova-compute", "nova-scheduler", "neutron-server"])
      assert.match(listing, new RegExp(`^log/${service}\\.log$`, "m"));
    // Real service logs: nova-api answered requests.
    const novaApi = execFileSync("tar", ["-xzOf", logs, "log/nova-api.log"], { encoding: "utf8" });
    assert.match(novaApi, /"GET \/v2\.1\/servers/);
    const conf = execFileSync("tar", ["-tzf", path.join(index.dir, `${CONTROL}-kolla-conf.tar.gz`)], {
      encoding: "utf8",
    });
    assert.match(conf, /^etc\/nova\.conf$/m);
  });

  test("destroy deletes a server left running first (enos#249), then leaves no process, file, link or namespace", async () => {
    const server = openstack(
      "server",
      "create",
      "--flavor",
      "m1.tiny",
      "--image",
      "cirros.uec",
      "--network",
      "private",
      "--wait",
      "-f",
      "value",
      "-c",
      "id",
      "left-running",
    ).trim();
    const pids = fs
      .readdirSync(path.join(cloudDir(), "run"))
      .filter((f) => f.endsWith(".pid"))
      .map((f) => fs.readFileSync(path.join(cloudDir(), "run", f), "utf8").trim());
    // Read after destroy through descriptors opened before: destroy removes the files, not what they hold.
    const logs = Object.fromEntries(
      ["nova-api", "nova-compute"].map((name) => [name, fs.openSync(path.join(cloudDir(), "log", `${name}.log`), "r")]),
    );
    const text = (fd: number) => {
      let out = "";
      const buffer = Buffer.alloc(1 << 16);
      for (let position = 0; ; ) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, position);
        if (n === 0) break;
        out += buffer.toString("utf8", 0, n);
        position += n;
      }
      fs.closeSync(fd);
      return out;
    };
    await cloud.stack.destroy({ parallel: 64 });
    // Nova itself deleted the server, while its API and compute service still ran.
    assert.match(text(logs["nova-api"]), new RegExp(`"DELETE /v2\\.1/servers/${server} HTTP/1\\.1" status: 204`));
    assert.match(text(logs["nova-compute"]), new RegExp(`\\[instance: ${server}\\] Terminating instance`));
    for (const pid of pids) assert.ok(!fs.existsSync(`/proc/${pid}`), `process ${pid} is gone`);
    assert.deepEqual(spawnSync("pgrep", ["-af", cloudDir()], { encoding: "utf8" }).stdout, "");
    assert.deepEqual(leftovers(cloud.name, cloud.stateDir), []);
    assert.ok(!fs.existsSync(openrc), "the admin-openrc is removed");
  });
});
