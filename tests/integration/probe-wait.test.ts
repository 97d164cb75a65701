import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { probeAll } from "../../providers/shared/probe";
import { freePort, type Sshd, startSshd } from "../support/helpers";

/**
 * The host probe of a fresh machine: sshd starts tens of seconds after the testbed says the machine is
 * there (cloud-init, a node's boot). A real sshd on 127.0.0.1 that starts late, and a port nobody opens.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-probe-wait-"));
const sshds: Sshd[] = [];
after(() => {
  for (const sshd of sshds) sshd.process.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client")]);
const target = (alias: string, port: number) => ({
  alias,
  address: "127.0.0.1",
  port,
  user: "root",
  keyfile: path.join(dir, "client"),
});
const probe = (alias: string, port: number, sshWaitTimeout?: number) =>
  probeAll({
    hosts: [target(alias, port)],
    eths: ["lo", "lo"],
    knownHostsFile: path.join(dir, "known_hosts"),
    sshWaitTimeout,
  });

test("a machine whose sshd starts late is probed once it answers", { timeout: 120_000 }, async () => {
  const port = await freePort();
  const started = Date.now();
  const late = new Promise<void>((resolve, reject) =>
    setTimeout(
      () =>
        startSshd(dir, "late", fs.readFileSync(path.join(dir, "client.pub"), "utf8"), port).then((sshd) => {
          sshds.push(sshd);
          resolve();
        }, reject),
      6_000,
    ),
  );
  const { probed } = await probe("late", port, 60);
  await late;
  assert.equal(probed[0].interfaces.api, "lo");
  assert.ok(Date.now() - started >= 6_000, "answered by the sshd that started late");
});

test("without a wait (one's own machines) one attempt; a machine that never answers fails once the wait is over, named with its last error", {
  timeout: 120_000,
}, async () => {
  const port = await freePort();
  await assert.rejects(probe("never", port), /never \(127\.0\.0\.1\): unreachable over SSH: .*Connection refused$/);
  const started = Date.now();
  await assert.rejects(
    probe("never", port, 12),
    /never \(127\.0\.0\.1\): unreachable over SSH after 3 attempts in 1\d s \(provider\.ssh_wait_timeout: 12\): .*Connection refused$/,
  );
  const seconds = (Date.now() - started) / 1000;
  assert.ok(seconds >= 10 && seconds <= 15, `${seconds} s`);
});
