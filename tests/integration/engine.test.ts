import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { local } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { openStack } from "../../cli/workspace";
import { phaseTimeout } from "../../components/commands";
import { TEST_PASSPHRASE } from "../support/harness";

// Proof that the engine built by scripts/setup works end to end: resources of the project's random and
// command plugins, up, re-up with no change, destroy.
test("engine: up, no-op re-up and destroy of a tiny program", { timeout: 300_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-engine-"));
  const marker = path.join(dir, "created-by-command");
  try {
    const program = async () => {
      const password = new random.RandomPassword("admin", { length: 40, special: false }).result;
      const fsid = new random.RandomUuid("fsid").result;
      const command = new local.Command("touch", {
        create: `echo made > "${marker}" && echo "$GREETING"`,
        delete: `rm -f "${marker}"`,
        environment: { GREETING: "hello from the command" },
      });
      return { password, fsid, stdout: command.stdout };
    };
    const stack = await openStack("proof", "engine-proof", program, {
      stateDir: dir,
      workDir: dir,
      passphrase: TEST_PASSPHRASE,
    });

    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    assert.equal(up.outputs.stdout.value, "hello from the command");
    assert.equal(up.outputs.password.secret, true);
    assert.match(up.outputs.password.value, /^[A-Za-z0-9]{40}$/);
    assert.match(up.outputs.fsid.value, /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    assert.ok(fs.existsSync(marker), "the command's create ran");

    // The password is encrypted in the state file: its plain text appears nowhere in it.
    const stateFile = path.join(dir, ".pulumi", "stacks", "engine-proof", "proof.json");
    const state = fs.readFileSync(stateFile, "utf8");
    assert.ok(!state.includes(up.outputs.password.value), "password is not in the state in clear");
    assert.match(state, /4dabf18193072939515e22adb298388d/, "the state holds a secret-typed value");

    const again = await stack.up();
    assert.deepEqual(again.summary.resourceChanges, { same: 4 });
    assert.equal(again.outputs.password.value, up.outputs.password.value, "the password is stable");

    const down = await stack.destroy();
    assert.equal(down.summary.result, "succeeded");
    assert.ok(!fs.existsSync(marker), "the command's delete ran");
    const exported = await stack.exportStack();
    assert.equal((exported.deployment.resources ?? []).length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A hung host must not hang `up`: every command under a phase gets its time limit (enos:timeouts).
test("a phase's timeout kills its command that outlives it and fails the update, saying so", {
  timeout: 300_000,
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-timeout-"));
  try {
    const program = async () => {
      const phase = new pulumi.ComponentResource(
        "enos:phases:Hung",
        "hung",
        {},
        { transformations: [phaseTimeout("2s")] },
      );
      new local.Command("sleeper", { create: "sleep 61.7" }, { parent: phase });
    };
    const stack = await openStack("timeout", "engine-timeout", program, {
      stateDir: dir,
      workDir: dir,
      passphrase: TEST_PASSPHRASE,
    });
    const started = Date.now();
    let output = "";
    await assert.rejects(stack.up({ onOutput: (text) => (output += text) }));
    assert.match(output, /timed out after 2 s/);
    assert.ok(Date.now() - started < 45_000, "the update ended long before the command would have");
    assert.equal(spawnSync("pgrep", ["-fx", "sleep 61.7"]).status, 1, "the command is gone");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
