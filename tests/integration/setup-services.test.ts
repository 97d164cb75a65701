import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { PROJECT_DIR } from "../../config/paths";

const SETUP = path.join(PROJECT_DIR, "scripts", "setup");
const POLICY = "#!/bin/sh\nexit 101\n";

/**
 * scripts/setup in a mount namespace whose /usr/sbin is an empty tmpfs (its policy-rc.d is there, the
 * machine's stays untouched), with dpkg-query saying keystone is missing and apt-get a stub that
 * copies the policy-rc.d in force, then fails (`fail`) or hangs until it is interrupted (`hang`).
 * Returns the running wrapper, which prints setup's status and what /usr/sbin holds after it.
 */
function setupWithStubs(mode: "fail" | "hang") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-setup-"));
  const stubs = path.join(dir, "bin");
  fs.mkdirSync(stubs);
  fs.writeFileSync(
    path.join(stubs, "dpkg-query"),
    `#!/bin/sh\ncase " $* " in *" keystone "*) exit 1 ;; esac\nprintf 'install ok installed'\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(stubs, "apt-get"),
    `#!/bin/sh
[ "$1" != update ] || exit 0
cp /usr/sbin/policy-rc.d ${dir}/policy-in-force
${mode === "fail" ? "exit 100" : `touch ${dir}/installing; exec sleep 120`}
`,
    { mode: 0o755 },
  );
  // The wrapper outlives a Ctrl-C (a trap, not an ignored signal, which setup would inherit).
  const child = spawn(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      `mount -t tmpfs tmpfs /usr/sbin
    trap : INT; PATH=${stubs}:$PATH bash ${SETUP}; echo "status=$?"; echo "left: $(ls -A /usr/sbin)"`,
    ],
    { detached: true },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const ended = new Promise<string>((resolve) => child.on("close", () => resolve(out)));
  return { dir, child, ended };
}

describe("setup and the system's services", { timeout: 300_000 }, () => {
  test("setup's policy-rc.d, which forbids every service start, goes when the install fails", async () => {
    const { dir, ended } = setupWithStubs("fail");
    try {
      const out = await ended;
      assert.equal(fs.readFileSync(path.join(dir, "policy-in-force"), "utf8"), POLICY, "in force during the install");
      assert.match(out, /status=100\n/);
      assert.match(out, /^left: $/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("and when the install is interrupted (Ctrl-C: SIGINT to the foreground process group)", async () => {
    const { dir, child, ended } = setupWithStubs("hang");
    try {
      let early: string | undefined;
      void ended.then((out) => (early = out));
      for (
        const end = Date.now() + 60_000;
        !fs.existsSync(path.join(dir, "installing"));
        await new Promise((r) => setTimeout(r, 100))
      ) {
        assert.ok(early === undefined && Date.now() < end, `setup never reached its install: ${early}`);
      }
      process.kill(-child.pid!, "SIGINT");
      const out = await ended;
      assert.equal(fs.readFileSync(path.join(dir, "policy-in-force"), "utf8"), POLICY);
      assert.match(out, /status=130\n/);
      assert.match(out, /^left: $/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("after setup, no unit of the dev cloud's packages starts at boot", () => {
    // What Debian enables: MariaDB, RabbitMQ's epmd, iSCSI (Nova's os-brick), the OpenStack services.
    const units = [
      "mariadb.service",
      "rabbitmq-server.service",
      "epmd.service",
      "epmd.socket",
      "iscsid.socket",
      "open-iscsi.service",
      "keystone.service",
      "glance-api.service",
      "placement-api.service",
      "nova-api.service",
      "nova-api-metadata.service",
      "nova-conductor.service",
      "nova-scheduler.service",
      "neutron-api.service",
      "neutron-rpc-server.service",
      "neutron-linuxbridge-agent.service",
    ];
    assert.ok(fs.existsSync("/lib/systemd/system/keystone.service"), "the packages are installed (setup ran)");
    // Without systemd (a container), what a systemd installed later would start: the units' links.
    const linked = (unit: string) =>
      spawnSync("find", ["/etc/systemd/system", "-path", `*.wants/${unit}`], { encoding: "utf8" }).stdout.trim();
    const systemctl = spawnSync("systemctl", ["--version"]).status === 0;
    const state = (unit: string) =>
      systemctl
        ? spawnSync("systemctl", ["is-enabled", unit], { encoding: "utf8" }).stdout.trim()
        : linked(unit)
          ? "enabled"
          : "disabled";
    assert.deepEqual(
      units.filter((unit) => state(unit) === "enabled"),
      [],
    );
  });
});
