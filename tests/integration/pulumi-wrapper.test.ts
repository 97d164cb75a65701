import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { PROJECT_DIR } from "../../config/paths";

/**
 * bin/pulumi, as a user runs it from a project directory: a copy of the project's wrapper in a
 * project of its own (its own .pulumi-state), in a shell with none of the engine's variables set.
 */
describe("bin/pulumi: the project's pulumi and its passphrases", { timeout: 300_000 }, () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "enos-wrapper-"));
  fs.mkdirSync(path.join(project, "bin"));
  fs.copyFileSync(path.join(PROJECT_DIR, "bin", "pulumi"), path.join(project, "bin", "pulumi"));
  fs.chmodSync(path.join(project, "bin", "pulumi"), 0o755);
  fs.copyFileSync(path.join(PROJECT_DIR, "package.json"), path.join(project, "package.json"));
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: enos\nruntime: nodejs\n");
  fs.writeFileSync(path.join(project, "Pulumi.g5k.yaml"), "config:\n  enos:provider: g5k\n");
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  const env = { PATH: `${project}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: process.env.HOME ?? "/root" };
  const pulumi = (args: string[], extra: Record<string, string> = {}, cwd = project) => {
    const result = spawnSync("pulumi", args, { cwd, env: { ...env, ...extra }, encoding: "utf8" });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };

  test("config set --secret on a testbed's stack: made from its file, encrypted with a generated 0600 passphrase, never the dev one", () => {
    const set = pulumi(["config", "set", "--secret", "enos:g5k_password", "s3cret", "--stack", "g5k"]);
    assert.equal(set.code, 0, set.err);
    const passphrase = path.join(project, ".pulumi-state", "passphrases", "g5k");
    assert.equal(fs.statSync(passphrase).mode & 0o777, 0o600);
    assert.match(set.err, /passphrase is in .*passphrases\/g5k \(generated, 0600\): keep a copy of it/);
    const file = fs.readFileSync(path.join(project, "Pulumi.g5k.yaml"), "utf8");
    assert.match(file, /enos:g5k_password:\n\s+secure: /);
    assert.doesNotMatch(file, /s3cret/);
    assert.equal(pulumi(["config", "get", "enos:g5k_password", "--stack", "g5k"]).out.trim(), "s3cret");
    const withDevPassphrase = pulumi(["config", "get", "enos:g5k_password", "--stack", "g5k"], {
      PULUMI_CONFIG_PASSPHRASE: "enos-dev",
    });
    assert.notEqual(withDevPassphrase.code, 0, "the dev stack's public passphrase does not open it");
  });

  test("an existing stack without its passphrase file is refused, not given a new passphrase", () => {
    fs.renameSync(path.join(project, ".pulumi-state", "passphrases", "g5k"), path.join(project, "kept"));
    const refused = pulumi(["config", "get", "enos:g5k_password", "--stack", "g5k"]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /stack g5k exists but .*passphrases\/g5k does not: set PULUMI_CONFIG_PASSPHRASE/);
    assert.equal(fs.existsSync(path.join(project, ".pulumi-state", "passphrases", "g5k")), false);
    const withFile = pulumi(["config", "get", "enos:g5k_password", "--stack", "g5k"], {
      PULUMI_CONFIG_PASSPHRASE_FILE: path.join(project, "kept"),
    });
    assert.equal(withFile.out.trim(), "s3cret");
  });

  test("a stack removed (the backend keeps its .bak) and its passphrase deleted can be made again, with a new passphrase", () => {
    fs.writeFileSync(path.join(project, "Pulumi.again.yaml"), "config:\n  enos:provider: g5k\n");
    assert.equal(pulumi(["config", "set", "--secret", "enos:g5k_password", "one", "--stack", "again"]).code, 0);
    const removed = pulumi(["stack", "rm", "again", "--yes", "--force"]);
    assert.equal(removed.code, 0, removed.err);
    assert.ok(
      fs.readdirSync(path.join(project, ".pulumi-state", ".pulumi", "stacks", "enos")).includes("again.json.bak"),
      "what the file backend leaves",
    );
    fs.rmSync(path.join(project, ".pulumi-state", "passphrases", "again"));
    fs.writeFileSync(path.join(project, "Pulumi.again.yaml"), "config:\n  enos:provider: g5k\n");
    const again = pulumi(["config", "set", "--secret", "enos:g5k_password", "two", "--stack", "again"]);
    assert.equal(again.code, 0, again.err);
    assert.equal(pulumi(["config", "get", "enos:g5k_password", "--stack", "again"]).out.trim(), "two");
    assert.equal(pulumi(["stack", "rm", "again", "--yes", "--force"]).code, 0);
  });

  test("an empty passphrase file (a write cut short) is refused, naming the file and the fix, not used", () => {
    const passphrases = path.join(project, ".pulumi-state", "passphrases");
    fs.writeFileSync(path.join(project, "Pulumi.cut.yaml"), "config:\n  enos:provider: g5k\n");
    fs.writeFileSync(path.join(passphrases, "cut"), "", { mode: 0o600 });
    const refused = pulumi(["config", "set", "--secret", "enos:g5k_password", "s3cret", "--stack", "cut"]);
    assert.equal(refused.code, 1, refused.err);
    assert.match(
      refused.err,
      new RegExp(
        "the secrets passphrase file .*passphrases/cut is empty: put the stack's " +
          "passphrase in it from your copy, or set PULUMI_CONFIG_PASSPHRASE; if stack cut was never made .*delete " +
          ".*passphrases/cut: a new one is generated",
      ),
    );
    assert.doesNotMatch(fs.readFileSync(path.join(project, "Pulumi.cut.yaml"), "utf8"), /secure/, "nothing encrypted");
    assert.equal(fs.statSync(path.join(passphrases, "cut")).size, 0, "the file is left for the user to restore");
    // A file the user names is checked the same way.
    fs.writeFileSync(path.join(project, "blank"), "\n");
    const named = pulumi(["config", "get", "enos:g5k_password", "--stack", "g5k"], {
      PULUMI_CONFIG_PASSPHRASE_FILE: path.join(project, "blank"),
    });
    assert.equal(named.code, 1);
    assert.match(named.err, /the secrets passphrase file .*blank is empty/);
    // Deleted as the message says: a new passphrase, written whole, no temporary file left, in a 0700 directory.
    fs.rmSync(path.join(passphrases, "cut"));
    const made = pulumi(["config", "set", "--secret", "enos:g5k_password", "s3cret", "--stack", "cut"]);
    assert.equal(made.code, 0, made.err);
    assert.match(fs.readFileSync(path.join(passphrases, "cut"), "utf8"), /^[A-Za-z0-9+/]{32}\n$/);
    assert.deepEqual(
      fs.readdirSync(passphrases).filter((f) => f.startsWith("cut")),
      ["cut"],
    );
    assert.equal(fs.statSync(passphrases).mode & 0o777, 0o700);
    assert.equal(pulumi(["stack", "rm", "cut", "--yes", "--force"]).code, 0);
    fs.rmSync(path.join(project, "Pulumi.cut.yaml"), { force: true });
  });

  test("the local file backend and the project's PULUMI_HOME, no login", () => {
    const ls = pulumi(["stack", "ls", "--json"]);
    assert.equal(ls.code, 0, ls.err);
    assert.deepEqual(
      JSON.parse(ls.out).map((s: { name: string }) => s.name),
      ["g5k"],
    );
    assert.ok(fs.existsSync(path.join(project, ".pulumi-state", ".pulumi", "stacks", "enos", "g5k.json")));
    assert.ok(fs.existsSync(path.join(project, ".pulumi-state", "home")), "PULUMI_HOME is the project's");
  });

  test("in an experiment directory (its Pulumi.yaml an enos one), even from below it: that directory's state", () => {
    const experiment = fs.mkdtempSync(path.join(os.tmpdir(), "enos-wrapper-exp-"));
    after(() => fs.rmSync(experiment, { recursive: true, force: true }));
    fs.writeFileSync(path.join(experiment, "Pulumi.yaml"), "name: enos\nruntime: nodejs\n");
    fs.writeFileSync(path.join(experiment, "Pulumi.exp.yaml"), "config:\n  enos:provider: g5k\n");
    fs.mkdirSync(path.join(experiment, "workload"));
    const set = pulumi(["config", "set", "--secret", "enos:g5k_password", "s3cret", "--stack", "exp"], {}, experiment);
    assert.equal(set.code, 0, set.err);
    const state = path.join(experiment, ".pulumi-state");
    assert.match(set.err, new RegExp(`passphrase is in ${state}/passphrases/exp \\(generated`));
    assert.ok(fs.existsSync(path.join(state, ".pulumi", "stacks", "enos", "exp.json")), "its own backend");
    const ls = pulumi(["stack", "ls", "--json"], {}, path.join(experiment, "workload"));
    assert.equal(ls.code, 0, ls.err);
    assert.deepEqual(
      JSON.parse(ls.out).map((s: { name: string }) => s.name),
      ["exp"],
    );
    assert.ok(!fs.existsSync(path.join(state, "home")), "PULUMI_HOME stays the project's");
    assert.ok(!fs.existsSync(path.join(project, ".pulumi-state", "passphrases", "exp")), "nothing in the project");
  });
});
