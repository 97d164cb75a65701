import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import * as yaml from "js-yaml";
import { PROJECT_DIR } from "../../config/paths";
import { leftovers } from "../support/harness";
import { enosIn } from "../support/helpers";

// Enos' habit: an experiment is a directory of one's own holding reservation.yaml, outside the tool's
// clone; `enos deploy` there, and `pulumi up` there, work on that directory's state.
const STACK = "reservation";

describe("an experiment directory outside the clone", { timeout: 900_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-exp-"));
  const state = path.join(dir, ".pulumi-state");
  // Its own subnets (10.179/10.180), the three roles the default inventory needs, no OpenStack.
  fs.writeFileSync(
    path.join(dir, "reservation.yaml"),
    yaml.dump({
      provider: { type: "local", api_cidr: "10.179.0.0/24", external_cidr: "10.180.0.0/24" },
      resources: { control: 1, network: 1, compute: 1 },
      kolla_mode: "none",
    }),
  );
  const pulumi = (...args: string[]) => {
    const env = { ...process.env, PATH: `${path.join(PROJECT_DIR, "bin")}:${process.env.PATH}` };
    const result = spawnSync("pulumi", args, { cwd: dir, env, encoding: "utf8", timeout: 600_000 });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
  after(() => {
    enosIn(dir, "destroy", "--hard");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("enos preview there uses ./reservation.yaml, makes the directory an experiment's, its state there", () => {
    const preview = enosIn(dir, "preview");
    assert.equal(preview.code, 0, preview.out + preview.err);
    const [first] = preview.err.split("\n");
    assert.equal(first, "enos: using ./reservation.yaml (Enos' default -f; --stack dev for the dev stack)");
    assert.match(preview.err, /is now an experiment directory \(wrote Pulumi\.yaml, \.gitignore\)/);
    assert.match(
      fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"),
      new RegExp(`\\nmain: ${path.join(PROJECT_DIR, "index.ts")}\\n`),
    );
    const stackFile = yaml.load(fs.readFileSync(path.join(dir, `Pulumi.${STACK}.yaml`), "utf8")) as { config: unknown };
    assert.deepEqual(stackFile.config, { "enos:reservationFile": "reservation.yaml" }, "relative: the dir can move");
    assert.ok(fs.existsSync(path.join(state, ".pulumi", "stacks", "enos", `${STACK}.json`)), "its backend");
    assert.ok(fs.existsSync(path.join(state, "passphrases", STACK)), "its passphrase");
    assert.ok(!fs.existsSync(path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`)), "nothing in the clone");
    // pulumi, in the same directory: the same program (Pulumi.yaml's main), stack and passphrase.
    const again = pulumi("preview", "--stack", STACK, "--non-interactive");
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(
      again.out,
      new RegExp(`resultsDir: "${path.join(dir, "results", STACK)}"`),
      "results in the directory",
    );
  });

  test("enos deploy there: the same stack, its per-stack files in the directory", () => {
    const deploy = enosIn(dir, "deploy");
    assert.equal(deploy.code, 0, deploy.out + deploy.err);
    assert.match(deploy.err, /^enos: using \.\/reservation\.yaml /);
    assert.ok(fs.existsSync(path.join(state, STACK, "ssh_config")), "its per-stack files");
  });

  test("pulumi up --stack reservation there works on the same state: nothing to change", () => {
    const up = pulumi("up", "--stack", STACK, "--yes", "--non-interactive");
    assert.equal(up.code, 0, up.out + up.err);
    assert.match(up.out, /\d+ unchanged/);
    assert.doesNotMatch(up.out, /\d+ (created|updated|replaced|deleted)/);
    const outputs = pulumi("stack", "output", "--stack", STACK, "--json");
    assert.equal(outputs.code, 0, outputs.err);
    assert.equal(JSON.parse(outputs.out).resultsDir, path.join(dir, "results", STACK), "results in the directory");
  });

  test("enos info there names the stack; enos destroy --hard there releases it and leaves nothing", () => {
    const info = enosIn(dir, "info");
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, new RegExp(`^stack ${STACK}: local testbed, 3 hosts\\n`));
    const down = enosIn(dir, "destroy", "--hard");
    assert.equal(down.code, 0, down.out + down.err);
    assert.deepEqual(leftovers(STACK, state), []);
  });
});
