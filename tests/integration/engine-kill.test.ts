import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { local } from "@pulumi/command";
import { openStack } from "../../cli/workspace";
import { engineInOwnGroup, enginePids, killEngine, machineLeftovers, TEST_PASSPHRASE } from "../support/harness";

// Processes of this file's, found by their exact command lines.
const HUNG = "sleep 600.131";
const STRAY = "sleep 600.132";
const ORPHANS = ["sleep 600.133", "sleep 600.134"];
const pids = (line: string) =>
  spawnSync("pgrep", ["-fx", line], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
const until = async (done: () => boolean) => {
  for (let i = 0; i < 300 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return done();
};

describe("engines killed by the tests, and what the suite leaves behind", { timeout: 180_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-engine-kill-"));
  const stackOf = async (name: string, create: string) => {
    return openStack(
      name,
      "enos",
      async () => {
        new local.Command("work", { create });
      },
      {
        stateDir: path.join(dir, name),
        workDir: dir,
        passphrase: TEST_PASSPHRASE,
        pulumiCommand: await engineInOwnGroup(),
      },
    );
  };

  after(() => {
    for (const pid of [HUNG, STRAY, ...ORPHANS].flatMap(pids)) process.kill(Number(pid), "SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("killEngine kills the engine's whole session: its command plugin and the command it runs", async () => {
    const name = `ek${process.pid}a`;
    const stack = await stackOf(name, HUNG);
    const up = stack.up();
    assert.ok(await until(() => pids(HUNG).length > 0), "the command started");
    const failed = assert.rejects(up);
    await killEngine(name);
    await failed;
    assert.ok(await until(() => pids(HUNG).length === 0), "the command the engine ran is gone");
    assert.deepEqual(
      (await machineLeftovers()).filter((l) => l.startsWith("engine process")),
      [],
    );
  });

  test("a command plugin whose engine is killed exits, and the command's process group goes with it", async () => {
    const name = `ek${process.pid}c`;
    // The command's group holds a background child beside the shell's foreground one.
    const stack = await stackOf(name, `${ORPHANS[0]} & ${ORPHANS[1]}; wait`);
    const up = stack.up();
    assert.ok(await until(() => ORPHANS.every((line) => pids(line).length > 0)), "the command started");
    const [engine] = enginePids(name);
    const session = spawnSync("ps", ["-o", "sid=", "-p", engine], { encoding: "utf8" }).stdout.trim();
    const plugin = () =>
      spawnSync("pgrep", ["-s", session, "-f", "plugins/command/main.js"], { encoding: "utf8" }).stdout;
    assert.ok(plugin(), "the command plugin runs in the engine's session");
    const failed = assert.rejects(up);
    process.kill(Number(engine), "SIGKILL");
    const killed = Date.now();
    await failed;
    const gone = () => !plugin() && ORPHANS.every((line) => pids(line).length === 0);
    assert.ok(await until(gone), "the plugin and the command's group are gone");
    assert.ok(Date.now() - killed < 10_000, `gone ${Date.now() - killed} ms after the engine`);
  });

  test("a process left in an engine run's session is reported by the end-of-file check", async () => {
    const stack = await stackOf(`ek${process.pid}b`, `nohup ${STRAY} >/dev/null 2>&1 &`);
    await stack.up();
    const left = await machineLeftovers();
    assert.ok(
      left.some((l) => l.startsWith("engine process") && l.endsWith(STRAY)),
      left.join("\n"),
    );
    for (const pid of pids(STRAY)) process.kill(Number(pid), "SIGKILL");
    assert.deepEqual(await machineLeftovers(), []);
  });
});
