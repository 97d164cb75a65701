import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { local, remote } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { openStack } from "../../cli/workspace";
import { TEST_PASSPHRASE } from "../support/harness";
import { type Sshd, startSshd } from "../support/helpers";

/**
 * Conformance of enos-pulumi's own pulumi-resource-command with @pulumi/command 1.2.1: the real SDK
 * classes, driven by the real engine (Automation API), the plugin installed in the project's
 * PULUMI_HOME, and remote commands against real sshd processes on 127.0.0.1.
 */

const typesOf = async (stack: Stack) =>
  ((await stack.exportStack()).deployment.resources ?? [])
    .map((r: { type: string }) => r.type)
    .filter((t: string) => t.startsWith("command:"));

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : []);

/** The engine's error text (CommandError carries the CLI's output), to check a failure's message. */
async function upFailure(stack: Stack, onEvent?: (event: EngineEvent) => void): Promise<string> {
  try {
    await stack.up({ onEvent });
  } catch (error) {
    return String(error);
  }
  return assert.fail("the update should have failed");
}

test("command plugin: local.Command semantics through the engine", { timeout: 300_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-cmdplugin-local-"));
  const log = path.join(dir, "log");
  const elsewhere = path.join(dir, "elsewhere");
  fs.mkdirSync(elsewhere);
  const variant = { greeting: "hello", trigger: "one", fail: false, slow: false, leak: false };
  const program = async () => {
    const life = new local.Command("life", {
      create: `echo "create $GREETING" >> "${log}"; echo "out:$GREETING"`,
      update: `echo "update $GREETING after $PULUMI_COMMAND_STDOUT" >> "${log}"; echo "out:$GREETING"`,
      delete: `echo "delete after $PULUMI_COMMAND_STDOUT" >> "${log}"`,
      environment: { GREETING: variant.greeting },
      triggers: [variant.trigger],
    });
    const createOnly = new local.Command("create-only", {
      create: `echo "create-only $GREETING" >> "${log}"`,
      environment: { GREETING: variant.greeting },
    });
    const io = new local.Command("io", {
      create: `cat; pwd; echo "to stderr" >&2; printf 'last\\n\\n'`,
      stdin: "line1\nline2\n",
      dir: elsewhere,
      interpreter: ["/bin/bash", "-c"],
    });
    const where = new local.Command("where", { create: "pwd" });
    const hidden = new local.Command("hidden", {
      create: `echo "token=$TOKEN"`,
      environment: { TOKEN: pulumi.secret("s3cr3t-value") },
    });
    const quiet = new local.Command("quiet", { create: "echo quiet", logging: "none" });
    const run = local.runOutput({ command: "echo invoked" });
    // A command that fails starts once the others are settled: a registration still in flight when the
    // engine stops would reject in this process after the test.
    const last = { dependsOn: [life, createOnly, io, where, hidden, quiet] };
    if (variant.fail) {
      new local.Command("fails", { create: `echo "partial output"; echo "what went wrong" >&2; exit 3` }, last);
    }
    if (variant.leak) {
      const environment = { TOKEN: pulumi.secret("leaked-s3cr3t") };
      new local.Command("leaks", { create: `echo "token=$TOKEN"; echo "a plain line"; exit 4`, environment }, last);
    }
    if (variant.slow) {
      new local.Command("slow", { create: "sleep 60" }, { customTimeouts: { create: "3s" } });
    }
    return {
      life: life.stdout,
      io: io.stdout,
      ioErr: io.stderr,
      where: where.stdout,
      hidden: hidden.stdout,
      quiet: quiet.stdout,
      run: run.stdout,
    };
  };
  const stack = await openStack("cmdplugin-local", "cmdplugin", program, {
    stateDir: dir,
    workDir: dir,
    passphrase: TEST_PASSPHRASE,
  });
  try {
    const up = await stack.up();
    assert.deepEqual([...new Set(await typesOf(stack))], ["command:local:Command"]);
    assert.equal(up.outputs.life.value, "out:hello");
    assert.equal(
      up.outputs.io.value,
      `line1\nline2\n${elsewhere}\nlast\n`,
      "stdin fed, dir honoured, one trailing newline trimmed",
    );
    assert.equal(up.outputs.ioErr.value, "to stderr");
    // An inline program runs in this process: its directory is ours.
    assert.equal(up.outputs.where.value, process.cwd(), "dir defaults to the program's directory");
    assert.equal(up.outputs.hidden.value, "token=s3cr3t-value");
    assert.equal(up.outputs.hidden.secret, true, "stdout of a command with a secret input is secret");
    assert.equal(up.outputs.life.secret, false);
    assert.equal(up.outputs.quiet.value, "quiet");
    assert.equal(up.outputs.run.value, "invoked");
    assert.ok(
      !fs
        .readFileSync(path.join(dir, ".pulumi", "stacks", "cmdplugin", "cmdplugin-local.json"), "utf8")
        .includes("s3cr3t-value"),
    );
    assert.deepEqual(lines(log).sort(), ["create hello", "create-only hello"]);

    const again = await stack.up();
    assert.deepEqual(again.summary.resourceChanges, { same: 7 }, "an unchanged re-up changes nothing");

    // An input change updates: `update` where there is one (with the previous stdout), else `create` again.
    fs.rmSync(log);
    variant.greeting = "bye";
    const updated = await stack.up();
    assert.deepEqual(updated.summary.resourceChanges, { same: 5, update: 2 });
    assert.deepEqual(lines(log).sort(), ["create-only bye", "update bye after out:hello"]);
    assert.equal(updated.outputs.life.value, "out:bye");

    // A triggers change replaces: the new create runs, and the old state's delete.
    fs.rmSync(log);
    variant.trigger = "two";
    const replaced = await stack.up();
    assert.deepEqual(replaced.summary.resourceChanges, { same: 6, replace: 1 });
    assert.deepEqual(lines(log).sort(), ["create bye", "delete after out:bye"]);

    variant.fail = true;
    const failure = await upFailure(stack);
    assert.match(failure, /command failed with exit code 3 locally/);
    assert.match(failure, /--- stdout \(last lines\) ---\n\s*partial output/);
    assert.match(failure, /--- stderr \(last lines\) ---\n\s*what went wrong/);
    variant.fail = false;

    // A command with a secret input shows its lines and its failure, the secret masked.
    variant.leak = true;
    const shown: { message: string; severity: string }[] = [];
    const leak = await upFailure(stack, (event) => event.diagnosticEvent && shown.push(event.diagnosticEvent));
    assert.match(leak, /command failed with exit code 4 locally/);
    assert.match(leak, /--- stdout \(last lines\) ---\n\s*token=\[secret\]\n\s*a plain line/);
    const streamed = shown.filter((d) => d.severity === "info").map((d) => d.message.trim());
    assert.ok(streamed.includes("token=[secret]") && streamed.includes("a plain line"), streamed.join(" | "));
    assert.ok(!`${leak}${JSON.stringify(shown)}`.includes("leaked-s3cr3t"), "the value shows nowhere");
    variant.leak = false;

    variant.slow = true;
    const started = Date.now();
    assert.match(await upFailure(stack), /command timed out after 3 s locally/);
    assert.ok(Date.now() - started < 40_000, "the command was stopped, not waited for");
    variant.slow = false;

    fs.rmSync(log);
    await stack.destroy();
    assert.deepEqual(lines(log), ["delete after out:bye"]);
  } finally {
    await stack.destroy().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A TCP server on 127.0.0.1 that accepts at once but passes each connection on to `port` only after
 * `delayMs`: an SSH server slow to send its banner.
 */
async function slowBanner(port: number, delayMs: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    const timer = setTimeout(() => {
      const upstream = net.connect(port, "127.0.0.1");
      sockets.add(upstream);
      upstream.on("error", () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    }, delayMs);
    socket.on("close", () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

test("command plugin: remote.Command over real sshd, with a proxy hop and host key pinning", {
  timeout: 300_000,
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-cmdplugin-remote-"));
  const sshds: Sshd[] = [];
  const variant = { wrongKey: false, slowConnect: false };
  let stack: Stack | undefined;
  let slow: { port: number; close(): void } | undefined;
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key")]);
    const privateKey = fs.readFileSync(path.join(dir, "client_key"), "utf8");
    const clientPub = fs.readFileSync(path.join(dir, "client_key.pub"), "utf8");
    const target = await startSshd(dir, "target", clientPub);
    sshds.push(target);
    const hop = await startSshd(dir, "hop", clientPub);
    sshds.push(hop);
    const marker = path.join(dir, "remote-file");
    const late = path.join(dir, "late-file");
    slow = await slowBanner(target.port, 5000);
    const slowPort = slow.port;
    const connection = {
      host: "127.0.0.1",
      port: target.port,
      user: "root",
      privateKey: pulumi.secret(privateKey),
      hostKey: target.hostKey,
    };

    const program = async () => {
      const direct = new remote.Command("direct", {
        connection,
        create: `echo "lc=$LC_ENOS"; cat; echo made >> "${marker}"`,
        delete: `echo "deleted after $PULUMI_COMMAND_STDOUT" >> "${marker}"`,
        stdin: "from stdin\n",
        environment: { LC_ENOS: "passed as an SSH env request" },
      });
      const proxied = new remote.Command("proxied", {
        connection: {
          ...connection,
          proxy: {
            host: "127.0.0.1",
            port: hop.port,
            user: "root",
            privateKey: pulumi.secret(privateKey),
            hostKey: hop.hostKey,
          },
        },
        create: "echo through the hop",
      });
      if (variant.wrongKey) {
        new remote.Command("impostor", {
          connection: { ...connection, hostKey: hop.hostKey, dialErrorLimit: 1 },
          create: "true",
        });
      }
      if (variant.slowConnect) {
        const command = { connection: { ...connection, port: slowPort }, create: `touch "${late}"` };
        new remote.Command("late", command, { customTimeouts: { create: "2s" } });
      }
      return { direct: direct.stdout, proxied: proxied.stdout };
    };
    stack = await openStack("cmdplugin-remote", "cmdplugin", program, {
      stateDir: dir,
      workDir: dir,
      passphrase: TEST_PASSPHRASE,
    });

    const up = await stack.up();
    assert.deepEqual(await typesOf(stack), ["command:remote:Command", "command:remote:Command"]);
    assert.equal(up.outputs.direct.value, "lc=passed as an SSH env request\nfrom stdin");
    assert.equal(up.outputs.direct.secret, true, "the connection is secret, so the outputs are");
    assert.equal(up.outputs.proxied.value, "through the hop");
    assert.match(
      fs.readFileSync(hop.logFile, "utf8"),
      new RegExp(`direct_tcpip: .*target 127\\.0\\.0\\.1 port ${target.port}$`, "m"),
      "the hop forwarded the connection",
    );
    assert.deepEqual(lines(marker), ["made"]);

    const again = await stack.up();
    assert.deepEqual(again.summary.resourceChanges, { same: 3 }, "an unchanged re-up changes nothing");

    variant.wrongKey = true;
    const failure = await upFailure(stack);
    assert.match(failure, new RegExp(`host key mismatch for root@127\\.0\\.0\\.1:${target.port}`));
    const keyPart = (key: string) => key.split(" ")[1].replace(/[+/]/g, "\\$&");
    assert.match(failure, new RegExp(`expected ssh-ed25519 ${keyPart(hop.hostKey)}`), "names the pinned key");
    assert.match(
      failure,
      new RegExp(`presented ssh-ed25519 ${keyPart(target.hostKey)}`),
      "names the key the server showed",
    );
    variant.wrongKey = false;

    // Timed out (as when cancelled) while the SSH connection is still being made: the command never runs.
    variant.slowConnect = true;
    const beforeStart = new RegExp(`command timed out after 2 s on root@127\\.0\\.0\\.1:${slowPort} before it started`);
    assert.match(await upFailure(stack), beforeStart);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    assert.ok(!fs.existsSync(late), "the command did not run once the connection was ready");
    variant.slowConnect = false;

    await stack.destroy();
    assert.deepEqual(lines(marker), ["made", "deleted after lc=passed as an SSH env request", "from stdin"]);
  } finally {
    await stack?.destroy().catch(() => undefined);
    for (const sshd of sshds) sshd.process.kill("SIGKILL");
    slow?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
