import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import * as yaml from "js-yaml";
import { PROJECT_DIR } from "../../config/paths";
import { leftovers } from "../support/harness";

// Enos' habit: `enos deploy -f reservation.yaml`. The file is the experiment, on a stack of its own.
const NAME = `rf${process.pid}`;
const STATE_DIR = path.join(PROJECT_DIR, ".pulumi-state");
const STACK_FILE = path.join(PROJECT_DIR, `Pulumi.${NAME}.yaml`);

function enos(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(PROJECT_DIR, "dist", "cli", "enos.js"), ...args], {
    encoding: "utf8",
    timeout: 600_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe("enos deploy -f FILE: a reservation file deployed on its own stack", { timeout: 900_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-resa-"));
  const file = path.join(dir, `${NAME}.yaml`);
  // Its own subnets (10.237/10.238), the three roles the default inventory needs, no OpenStack.
  fs.writeFileSync(
    file,
    yaml.dump({
      provider: { type: "local", api_cidr: "10.237.0.0/24", external_cidr: "10.238.0.0/24" },
      resources: { control: 1, network: 1, compute: 1 },
      kolla_mode: "none",
    }),
  );
  const devFile = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");
  after(() => {
    enos("destroy", "--hard", "-f", file);
    spawnSync(path.join(PROJECT_DIR, "bin", "pulumi"), ["stack", "rm", "--yes", "--force", NAME], { cwd: PROJECT_DIR });
    for (const f of [
      STACK_FILE,
      path.join(STATE_DIR, "passphrases", NAME),
      dir,
      path.join(PROJECT_DIR, "results", NAME),
    ])
      fs.rmSync(f, { recursive: true, force: true });
  });

  test("deploy makes the stack named after the file, and deploys it", () => {
    const deploy = enos("deploy", "-f", file);
    assert.equal(deploy.code, 0, deploy.out + deploy.err);
    const stackFile = yaml.load(fs.readFileSync(STACK_FILE, "utf8")) as { config: unknown };
    assert.deepEqual(stackFile.config, { "enos:reservationFile": file }, "Pulumi.<file's name>.yaml names the file");
    const info = enos("info", "-f", file);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, new RegExp(`^stack ${NAME}: local testbed, 3 hosts\\n`));
    assert.match(info.out, /\n {2}control-1 +10\.237\.0\.\d+ +control/);
    assert.equal(
      fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8"),
      devFile,
      "the dev stack is untouched",
    );
  });

  test("destroy --hard -f FILE releases that stack, and leaves nothing", () => {
    const down = enos("destroy", "--hard", "-f", file);
    assert.equal(down.code, 0, down.out + down.err);
    assert.deepEqual(leftovers(NAME, STATE_DIR), []);
  });
});
