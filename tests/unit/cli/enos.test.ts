import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as yaml from "js-yaml";
import { engineFailure, experimentStackOf, UsageError } from "../../../cli/context";
import { PROJECT_DIR } from "../../../config/paths";

// The compiled CLI, without bin/enos' compile step: parsing and usage errors touch no engine.
const enos = (...args: string[]) => {
  const result = spawnSync(process.execPath, [path.join(PROJECT_DIR, "dist", "cli", "enos.js"), ...args], {
    encoding: "utf8",
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
};

const VERB_OPTIONS: Record<string, string[]> = {
  new: ["--provider", "--dir"],
  check: [],
  deploy: ["--force-deploy"],
  up: ["--force-deploy", "-t, --tags"],
  os: ["--reconfigure", "--pull", "-t, --tags", "--render", "--out"],
  init: [],
  bench: ["--workload", "--reset", "--plan"],
  tc: ["--test", "--reset", "--plan"],
  backup: ["--backup_dir", "--plan"],
  info: ["--out"],
  "ssh-tunnel": ["--port", "--host"],
  preview: [],
  destroy: ["--hard", "--include-images"],
  kolla: [],
};
const GLOBAL_OPTIONS = ["-S, --stack", "-f, --file", "-v, --verbose", "-s, --silent"];

describe("the enos command line", () => {
  test("enos --help lists every verb; each verb's --help lists its options and the global ones", () => {
    const help = enos("--help");
    assert.equal(help.code, 0);
    for (const verb of Object.keys(VERB_OPTIONS)) assert.match(help.out, new RegExp(`\\n  ${verb}\\b`), verb);
    for (const [verb, options] of Object.entries(VERB_OPTIONS)) {
      const page = enos(verb, "--help");
      assert.equal(page.code, 0, verb);
      for (const option of [...options, ...GLOBAL_OPTIONS])
        assert.ok(page.out.includes(option), `enos ${verb} --help shows ${option}`);
    }
  });

  test("usage errors exit 2 and say what is wrong", () => {
    assert.equal(enos("bogus").code, 2);
    assert.equal(enos("tc", "--bogus").code, 2);
    const tags = enos("up", "-t", "keystone");
    assert.equal(tags.code, 2);
    assert.match(tags.err, /-t\/--tags belongs to enos os/);
    assert.match(enos("os", "--reconfigure", "--pull").err, /one at a time/);
    assert.match(enos("os", "--render").err, /--render needs --out DIR/);
    assert.match(enos("info", "--out", "xml").err, /Allowed choices are json, yaml/);
    const missing = enos("deploy", "-f", "/nonexistent/reservation.yaml");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /-f \/nonexistent\/reservation\.yaml: no such file/);
  });
});

describe("-f FILE is the experiment", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-f-"));
  const name = `resa-${process.pid}`;
  const file = path.join(dir, `${name}.yaml`);
  const stackFile = path.join(PROJECT_DIR, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, "provider: local\nresources:\n  control: 1\n");

  test("without --stack: a stack named after the file, created pointing at it, used again next time", (t) => {
    t.after(() => fs.rmSync(stackFile, { force: true }));
    assert.equal(experimentStackOf(file), name);
    assert.deepEqual(yaml.load(fs.readFileSync(stackFile, "utf8")), { config: { "enos:reservationFile": file } });
    assert.equal(experimentStackOf(file), name, "the same file, the same stack");
  });

  test("never another experiment's stack: --stack dev is refused, and Pulumi.dev.yaml is left as it is", () => {
    const before = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");
    assert.throws(
      () => experimentStackOf(file, "dev"),
      (e: Error) => e instanceof UsageError && /stack dev .* is another experiment, not .*resa-/.test(e.message),
    );
    assert.equal(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8"), before);
    const refused = enos("deploy", "-f", file, "--stack", "dev");
    assert.equal(refused.code, 2);
    assert.match(refused.err, /is another experiment/);
  });

  test("a failed engine run is told by each failing resource's error, else by the engine's stderr", () => {
    const error = (type: string, name: string, message: string) => ({
      urn: `urn:pulumi:dev::enos::${type}::${name}`,
      message,
      color: "never",
      severity: "error" as const,
    });
    const errors = [
      error("enos:phases:Kolla$command:local:Command", "kolla-deploy", "command failed with exit code 2\n"),
      error("pulumi:pulumi:Stack", "enos-dev", "update failed"),
    ];
    const told = engineFailure(errors, "error: update failed\n");
    assert.equal(told, "command:local:Command kolla-deploy: command failed with exit code 2");
    assert.equal(engineFailure([], "error: passphrase must be set\n"), "error: passphrase must be set");
  });
});
