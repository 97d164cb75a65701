import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { renderKnownHosts, renderSshConfig } from "../../components/ssh-config";
import type { Host } from "../../config/types";
import type { Connection } from "../../plugins/command/inputs";
import { dial } from "../../plugins/command/remote/ssh";
import { probeAll } from "../../providers/shared/probe";
import { cleanUp, recordOf, type TestExperiment, testExperiment } from "../support/harness";

// Subnets 10.187/10.188 are this file's.
const provider = { type: "local", api_cidr: "10.187.0.0/24", external_cidr: "10.188.0.0/24" };
const keyOf = (hostKey: string) => hostKey.split(" ").slice(0, 2).join(" ");

/**
 * A host reached through a jump host (as an OpenStack testbed's hosts are through its gateway), with
 * two local testbed hosts (namespaces, each with its sshd) standing for the gateway and the host
 * behind it: the probe learns the gateway's key as it learns the host's; ssh_config and the command
 * plugin check it; a gateway whose key changed is refused by each, saying so.
 */
describe("a jump host's SSH key is learnt at the probe and checked like the hosts'", { timeout: 300_000 }, () => {
  let local: TestExperiment;
  let gateway: Host;
  let inner: Host;
  let dir: string;
  const learnt = () => path.join(dir, "known_hosts.learnt");
  const probe = () =>
    probeAll({
      hosts: [{ ...inner, user: "root", jump: `root@${gateway.address}` }],
      eths: ["eth0", "eth1"],
      knownHostsFile: learnt(),
    });
  /** The host behind the gateway as the testbed records it, in an ssh_config and known_hosts of its own. */
  function sshConfig(jumpHostKey: string): string {
    const host: Host = { ...inner, jump: `root@${gateway.address}`, jumpHostKey };
    fs.writeFileSync(path.join(dir, "known_hosts"), renderKnownHosts([host]));
    fs.writeFileSync(path.join(dir, "ssh_config"), renderSshConfig([host], path.join(dir, "known_hosts"), learnt()));
    return path.join(dir, "ssh_config");
  }
  const ssh = (config: string) =>
    spawnSync("ssh", ["-F", config, inner.alias, "hostname"], { encoding: "utf8", timeout: 30_000 });
  const connection = (jumpHostKey: string): Connection => {
    const privateKey = fs.readFileSync(inner.keyfile!, "utf8");
    const endpoint = { user: "root", privateKey, dialErrorLimit: 1, perDialTimeout: 10 };
    return {
      ...endpoint,
      host: inner.address,
      port: 22,
      hostKey: inner.hostKey,
      proxy: { ...endpoint, host: gateway.address, port: 22, hostKey: jumpHostKey },
    };
  };

  before(async () => {
    local = await testExperiment(`jh${process.pid}`, { provider, resources: { control: 1, network: 1, compute: 1 } });
    await local.stack.up({ parallel: 64 });
    [gateway, inner] = (await recordOf(local.stack)).hosts;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-jump-"));
  });
  after(async () => {
    await cleanUp(local);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the probe reaches the host through the jump host and learns both keys", async () => {
    const {
      probed: [found],
    } = await probe();
    assert.equal(found.jumpHostKey, keyOf(gateway.hostKey!));
    assert.equal(found.hostKey, keyOf(inner.hostKey!));
  });

  test("ssh_config and the command plugin check the jump host's key: the learnt one passes, none other", async () => {
    const config = sshConfig(gateway.hostKey!);
    const address = gateway.address.replace(/\./g, "\\.");
    const entry = new RegExp(`^Host ${address}\\n(  .*\\n)*  StrictHostKeyChecking yes\\n`, "m");
    assert.match(fs.readFileSync(config, "utf8"), entry, "the jump host's own entry");
    const reached = ssh(config);
    assert.equal(reached.status, 0, reached.stderr);
    const client = await dial(connection(gateway.hostKey!), new AbortController().signal, () => undefined);
    client.end();
    // Another key pinned for the gateway (the inner host's own): refused.
    const wrong = ssh(sshConfig(inner.hostKey!));
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });

  test("a jump host whose key changed is refused by the probe, ssh_config and the plugin, each saying so", async () => {
    // The gateway reinstalled (or another machine at its address): a new host key, its sshd reloaded.
    const hostDir = path.join(local.stateDir, local.name, "local", "hosts", gateway.alias);
    const keyFile = path.join(hostDir, "ssh_host_ed25519_key");
    fs.rmSync(keyFile);
    fs.rmSync(`${keyFile}.pub`);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
    const fresh = keyOf(fs.readFileSync(`${keyFile}.pub`, "utf8"));
    process.kill(Number(fs.readFileSync(path.join(hostDir, "sshd.pid"), "utf8").trim()), "SIGHUP");
    const scanned = () => spawnSync("ssh-keyscan", ["-t", "ed25519", gateway.address], { encoding: "utf8" }).stdout;
    for (let i = 0; i < 50 && !scanned().includes(fresh.split(" ")[1]); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }

    await assert.rejects(probe(), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(
          `the SSH host key of ${gateway.address} \\(its jump host\\) is not ` +
            `the one learnt in ${learnt()}: refused\\. If that machine was reinstalled, forget its old key ` +
            `\\(ssh-keygen -R ${gateway.address} -f ${learnt()}\\) and run again`,
        ),
      );
      return true;
    });
    const refused = ssh(sshConfig(gateway.hostKey!));
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
    // Base64 holds + and /: the keys are matched as text, not as patterns.
    const expected =
      `host key mismatch for root@${gateway.address}:22: expected ${keyOf(gateway.hostKey!)}, ` +
      `the server presented ${fresh}`;
    await assert.rejects(
      dial(connection(gateway.hostKey!), new AbortController().signal, () => undefined),
      (error: Error) => {
        assert.ok(error.message.includes(expected), error.message);
        return true;
      },
    );
  });
});
