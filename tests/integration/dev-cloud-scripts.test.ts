import * as assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { DEV_CLOUD_SCRIPTS, devCloudDown, devCloudUp } from "../../components/dev-cloud";
import { exposedFiles, holdingSecret, namespacePids } from "../support/dev-cloud-checks";

const NAMESPACE = `enos-dcs${process.pid}`;
const [HERE, ADDRESS] = ["10.189.0.1", "10.189.0.2"];
const HOST_END = `dcs${process.pid}`.slice(0, 15);
/** The services whose /etc, /var/lib and /var/log directories the packages' own scripts fill. */
const SERVICES = ["keystone", "glance", "nova", "neutron", "placement"];
const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Until `check` holds (polled every 200 ms), or fails after `seconds`. */
async function until(what: string, seconds: number, check: () => boolean) {
  for (const end = Date.now() + seconds * 1000; !check(); await sleep(200)) {
    if (Date.now() > end) throw new Error(`${what}: not after ${seconds} s`);
  }
}

/** Runs a command to its end without blocking the event loop; its status and output. */
function run(child: ChildProcess): Promise<{ status: number | null; stdout: string; stderr: string }> {
  let [stdout, stderr] = ["", ""];
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

/**
 * components/dev-cloud/up.sh and down.sh on their own, in a namespace of this file (a veth to this
 * machine): a cloud that depends on nothing outside its directory and holds its secrets close, the pid
 * checks of down.sh, and what a failed or killed stand-up leaves (nothing running, its logs).
 */
describe("the dev cloud's scripts: a self-contained stand-up, what a failed or killed one leaves, down.sh's pid checks", {
  timeout: 900_000,
}, () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "enos-dcs-"));
  const dir = path.join(work, "cloud");
  const password = crypto.randomBytes(18).toString("hex");
  // With a variable of the caller's own, which no daemon may see.
  const env = { ...process.env, DEV_CLOUD_PASSWORD: password, ENOS_CALLER_ONLY: "caller's" };
  const up = () =>
    spawn("bash", ["-c", devCloudUp(NAMESPACE, dir, ADDRESS, path.join(dir, "admin-openrc.sh"))], {
      env,
      detached: true,
    });
  const down = () => spawnSync("bash", ["-c", devCloudDown(dir)], { encoding: "utf8" });
  const physnetLink = () => spawnSync("ip", ["-n", NAMESPACE, "link", "show", "devcloud-phys"]).status === 0;

  before(() =>
    sh(`set -e
    ip netns add ${NAMESPACE}
    ip link add ${HOST_END} type veth peer name cloud netns ${NAMESPACE}
    ip addr add ${HERE}/24 dev ${HOST_END}; ip link set ${HOST_END} up
    ip -n ${NAMESPACE} link set lo up; ip -n ${NAMESPACE} addr add ${ADDRESS}/24 dev cloud; ip -n ${NAMESPACE} link set cloud up`),
  );
  after(() => {
    down();
    sh(
      `ip netns pids ${NAMESPACE} | xargs -r kill -9; ip netns del ${NAMESPACE}; ip link del ${HOST_END} 2>/dev/null; true`,
    );
    fs.rmSync(work, { recursive: true, force: true });
  });

  test("stands up where /etc holds only what the packages ship and /var/lib, /var/log are empty and read-only; no secret in reach", async () => {
    // Each service's /etc directory as its packages ship it (no config, key or certificate their
    // postinsts make), its /var/lib and /var/log directories empty and read-only: in a mount
    // namespace of the stand-up's own, which its daemons keep.
    const shipped = path.join(work, "shipped");
    for (const service of SERVICES) {
      const etc = `/etc/${service}`;
      const packages = execFileSync("dpkg-query", ["-S", etc], { encoding: "utf8" }).split(":")[0].split(", ");
      const files = execFileSync("dpkg-query", ["-L", ...packages], { encoding: "utf8" })
        .split("\n")
        .filter((f) => f.startsWith(`${etc}/`));
      for (const file of files.filter((f) => fs.existsSync(f))) {
        const copy = path.join(shipped, file);
        if (fs.statSync(file).isDirectory()) fs.mkdirSync(copy, { recursive: true });
        else fs.cpSync(file, copy);
      }
    }
    assert.ok(
      fs.existsSync(path.join(shipped, "etc/keystone/policy.d")) &&
        !fs.existsSync(path.join(shipped, "etc/keystone/keystone.conf")),
    );
    const mounts = SERVICES.map(
      (s) => `mount -t tmpfs tmpfs /etc/${s}; cp -a ${shipped}/etc/${s}/. /etc/${s}/
      for d in /var/lib/${s} /var/log/${s}; do [ ! -d "$d" ] || mount -t tmpfs -o ro tmpfs "$d"; done`,
    ).join("\n");
    const standUp = spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        `set -e\n${mounts}\nexec ${devCloudUp(NAMESPACE, dir, ADDRESS, path.join(dir, "admin-openrc.sh"))}`,
      ],
      { env },
    );
    // Meanwhile, no process on this machine shows the admin password on its command line (keystone-manage bootstrap's).
    const seen = new Set<string>();
    const watch = setInterval(() => {
      for (const leak of holdingSecret(
        fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)),
        password,
        ["cmdline"],
      ))
        seen.add(leak);
    }, 100);
    const result = await run(standUp).finally(() => clearInterval(watch));
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([...seen], [], "the admin password on a command line");

    // A working cloud: a token from Keystone, the APIs' catalog.
    const openrc = fs.readFileSync(path.join(dir, "admin-openrc.sh"), "utf8");
    const catalog = sh(`${openrc}\nopenstack catalog list -f value -c Type`).trim().split("\n").sort();
    assert.deepEqual(catalog, ["compute", "identity", "image", "network", "placement"]);
    // The admin password is in no daemon's environment or command line, nor the services' password.
    const servicePassword = /^password = (\S+)$/m.exec(fs.readFileSync(path.join(dir, "etc", "nova.conf"), "utf8"))![1];
    const pids = namespacePids(NAMESPACE);
    assert.ok(pids.length > 20, `the daemons run in ${NAMESPACE}: ${pids.length}`);
    assert.deepEqual(holdingSecret(pids, password), []);
    assert.deepEqual(holdingSecret(pids, servicePassword), []);
    assert.deepEqual(
      holdingSecret(pids, "ENOS_CALLER_ONLY", ["environ"]),
      [],
      "the caller's environment reaches no daemon",
    );
    assert.deepEqual(exposedFiles(dir), []);
    // Every port on the namespace's loopback or the API address: RabbitMQ's AMQP, epmd, Erlang distribution, MariaDB...
    const listeners = sh(`ip netns exec ${NAMESPACE} ss -Htlnp`)
      .trim()
      .split("\n")
      .map((line) => line.split(/\s+/));
    assert.ok(
      listeners.some((l) => l[3] === "127.0.0.1:25672"),
      "Erlang's distribution port on loopback",
    );
    assert.deepEqual(
      listeners
        .filter((l) => !["127.0.0.1", "[::1]", ADDRESS].includes(l[3].replace(/:\d+$/, "")))
        .map((l) => l.slice(3).join(" ")),
      [],
    );
  });

  test("down.sh leaves alone a process its pid files name but up.sh did not start: a PID reused, another boot, outside the namespace", () => {
    assert.ok(fs.existsSync(path.join(dir, "run", "keystone.pid")), "the cloud of the previous test is up");
    const run = path.join(dir, "run");
    const [boot, start] = [
      fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
      (pid: number) =>
        fs
          .readFileSync(`/proc/${pid}/stat`, "utf8")
          .replace(/^.*\) /s, "")
          .split(" ")[19],
    ];
    // Group leaders, as daemons are: without its checks, down.sh signals their whole group.
    const inside = spawn("ip", ["netns", "exec", NAMESPACE, "setsid", "sleep", "600"], { stdio: "ignore" });
    const outside = spawn("setsid", ["sleep", "600"], { stdio: "ignore" });
    const strangers = [inside, outside].map((child) => child.pid!);
    try {
      execFileSync("bash", [
        "-c",
        `for p in ${strangers.join(" ")}; do until [ "$(readlink /proc/$p/exe)" = /usr/bin/sleep ]; do sleep 0.1; done; done`,
      ]);
      const record = (name: string, pid: number, started: string) => {
        fs.writeFileSync(path.join(run, `${name}.pid`), `${pid}\n`);
        fs.writeFileSync(path.join(run, `${name}.start`), `${started}\n`);
      };
      record("reused", strangers[0], `${Number(start(strangers[0])) - 100} ${boot}`);
      record("rebooted", strangers[0], `${start(strangers[0])} ${crypto.randomUUID()}`);
      record("elsewhere", strangers[1], `${start(strangers[1])} ${boot}`);
      const daemons = fs
        .readdirSync(run)
        .filter((f) => f.endsWith(".start"))
        .map((f) => fs.readFileSync(path.join(run, f.replace(/start$/, "pid")), "utf8").trim());
      const result = down();
      assert.equal(result.status, 0, result.stderr);
      for (const name of ["reused", "rebooted", "elsewhere"])
        assert.match(result.stderr, new RegExp(`run/${name}\\.pid names PID \\d+, no longer the daemon`));
      for (const pid of strangers) assert.ok(fs.existsSync(`/proc/${pid}`), `process ${pid} (sleep) survives`);
      for (const pid of daemons.filter((p) => !strangers.includes(Number(p))))
        assert.ok(!fs.existsSync(`/proc/${pid}`), `daemon ${pid} is stopped`);
      assert.deepEqual(namespacePids(NAMESPACE), [String(strangers[0])]);
      assert.ok(!fs.existsSync(dir) && !physnetLink());
    } finally {
      for (const child of [inside, outside]) child.kill("SIGKILL");
    }
  });

  test("a stand-up that fails stops all it started, keeps its logs, and names the step and its log", async () => {
    // Keystone's port taken: its uWSGI exits at once, after MariaDB, RabbitMQ and the other APIs have started.
    const holder = spawn("ip", [
      "netns",
      "exec",
      NAMESPACE,
      "/usr/bin/python3",
      "-c",
      `import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("${ADDRESS}", 5000)); s.listen()
print("listening", flush=True); time.sleep(600)`,
    ]);
    try {
      await new Promise((resolve) => holder.stdout.once("data", resolve));
      const result = await run(up());
      assert.notEqual(result.status, 0);
      const log = path.join(dir, "log", "keystone.log");
      assert.match(
        result.stderr,
        new RegExp(`failed at step "waiting for keystone" .*; nothing it started runs; logs in ${dir}/log\n`),
      );
      assert.match(result.stderr, new RegExp(`the last lines of ${log}:\n(.*\n)*bind\\(\\): Address already in use`));
      assert.deepEqual(namespacePids(NAMESPACE), [String(holder.pid)]);
      assert.ok(!physnetLink(), "physnet1's veth is removed");
      assert.deepEqual(fs.readdirSync(dir), ["log"]);
      for (const name of ["keystone", "mariadb", "rabbitmq", "glance-api", "nova-api", "neutron-server"])
        assert.ok(fs.existsSync(path.join(dir, "log", `${name}.log`)), name);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  test("a killed stand-up (a cancel or a timeout kills its process group): its guard stops all it started, keeps the logs", async () => {
    const standUp = up();
    const ended = run(standUp);
    // Killed once Nova's last daemons start: nearly all of them run.
    await until("nova-compute started", 300, () => fs.existsSync(path.join(dir, "run", "nova-compute.pid")));
    process.kill(-standUp.pid!, "SIGKILL");
    await ended;
    await until(
      "the guard's cleanup",
      120,
      () => namespacePids(NAMESPACE).length === 0 && fs.readdirSync(dir).join() === "log",
    );
    assert.ok(!physnetLink(), "physnet1's veth is removed");
    assert.match(
      fs.readFileSync(path.join(dir, "log", "guard.log"), "utf8"),
      /ended before it was done: stopping what it started/,
    );
    assert.equal(spawnSync("pgrep", ["-f", `${DEV_CLOUD_SCRIPTS}/down.sh --after`]).status, 1, "the guard has ended");
  });

  test("the next stand-up removes a failed one's logs and stands up; down.sh removes it all", async () => {
    const result = await run(up());
    assert.equal(result.status, 0, result.stderr);
    assert.ok(!fs.readFileSync(path.join(dir, "log", "keystone.log"), "utf8").includes("Address already in use"));
    const stopped = down();
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.deepEqual(namespacePids(NAMESPACE), []);
    assert.ok(!fs.existsSync(dir) && !physnetLink());
  });
});
