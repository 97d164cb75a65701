import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as yaml from "js-yaml";
import { PROJECT_DIR } from "../../config/paths";
import { leftovers } from "../support/harness";

// The enos command as a user runs it, on a stack of the project (its own subnets, so that it never
// meets the dev stack), from new to destroy.
const STACK = `it${process.pid}c`;
const STACK_FILE = path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`);
const STATE_DIR = path.join(PROJECT_DIR, ".pulumi-state");

function enos(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(PROJECT_DIR, "bin", "enos"), ...args], {
    encoding: "utf8",
    timeout: 600_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}
const inNamespace = (host: string, command: string) =>
  spawnSync("ip", ["netns", "exec", `enos-${STACK}-${host}`, "sh", "-c", command], { encoding: "utf8" }).stdout;

describe("the enos command line, verb by verb, on a local stack", { timeout: 1_200_000 }, () => {
  before(() => fs.rmSync(STACK_FILE, { force: true }));
  after(() => {
    enos("destroy", "--hard", "--stack", STACK);
    spawnSync(process.execPath, [
      "-e",
      `
      const { openStack } = require(${JSON.stringify(path.join(PROJECT_DIR, "dist", "cli", "workspace"))});
      openStack(${JSON.stringify(STACK)}, "enos", async () => {}).then((s) => s.workspace.removeStack(${JSON.stringify(STACK)}));`,
    ]);
    fs.rmSync(STACK_FILE, { force: true });
    fs.rmSync(path.join(PROJECT_DIR, "results", STACK), { recursive: true, force: true });
    fs.rmSync(path.join(STATE_DIR, "passphrases", STACK), { force: true });
  });

  test("usage errors exit 2, configuration errors exit 1 naming the key", () => {
    assert.equal(enos("bogus").code, 2);
    assert.equal(enos("new", "--provider", "grid5000").code, 2, "not a testbed");
    const bad = enos("check", "-f", path.join(PROJECT_DIR, "tests", "fixtures", "not-a-mapping.yaml"));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /reservationFile/);
  });

  test("new writes a stack file from the provider's example, without the example's secrets salt", () => {
    const made = enos("new", "--provider", "local", "--stack", STACK);
    assert.equal(made.code, 0, made.err);
    const text = fs.readFileSync(STACK_FILE, "utf8");
    assert.doesNotMatch(text, /encryptionsalt/);
    assert.equal(enos("check", "--stack", STACK).code, 0);
    assert.equal(enos("new", "--provider", "local", "--stack", STACK).code, 1, "an existing file is not overwritten");
    // This test's own subnets, and no measurement on every update.
    const doc = yaml.load(text) as { config: Record<string, unknown> };
    doc.config["enos:provider"] = { type: "local", api_cidr: "10.239.0.0/24", external_cidr: "10.240.0.0/24" };
    (doc.config["enos:network_constraints"] as { test: boolean }).test = false;
    // The verbs, not the dev cloud (tests/integration/dev-cloud.test.ts): Rally's Dummy workload only.
    doc.config["enos:dev_cloud"] = false;
    doc.config["enos:workload"] = "workloads/dummy";
    fs.writeFileSync(STACK_FILE, yaml.dump(doc));
  });

  test("up acquires the testbed only; tc waits for OpenStack; os then checks kolla on it", () => {
    const up = enos("up", "--stack", STACK);
    assert.equal(up.code, 0, up.err);
    assert.doesNotMatch(up.out, /kolla-check|tc-grp/, "no other phase ran");
    assert.equal(inNamespace("grp1-control-1", "tc qdisc show dev eth0").includes("htb"), false);
    const early = enos("tc", "--stack", STACK);
    assert.equal(early.code, 2, early.out + early.err);
    assert.match(
      early.err,
      /network emulation comes after OpenStack, .* run enos os and enos init \(or enos deploy\) first/,
    );
    const os = enos("os", "--stack", STACK);
    assert.equal(os.code, 0, os.err);
    assert.match(os.out, /kolla check: 4 hosts and this machine .* answer Ansible through the inventory/);
    assert.doesNotMatch(os.out, /tc-grp/);
  });

  test("deploy brings up the rest; info lists the hosts with their roles and where things are", () => {
    const deploy = enos("deploy", "--stack", STACK);
    assert.equal(deploy.code, 0, deploy.err);
    assert.match(deploy.out, /tc-grp1-control-1 created/);
    assert.match(inNamespace("grp1-control-1", "tc qdisc show dev eth0"), /qdisc htb 1: root/);
    // As in an Enos experiment: the benchmarks start once the network emulation is on, never beside it.
    const lines = deploy.out.split("\n");
    const lastTc = lines.map((l) => /command:remote:Command tc-\S+ created/.test(l)).lastIndexOf(true);
    const firstRally = lines.findIndex((l) => /rally-env creating/.test(l));
    assert.ok(
      lastTc >= 0 && firstRally > lastTc,
      `rally-env started (line ${firstRally}) after the last tc rule (line ${lastTc})`,
    );
    const info = enos("info", "--stack", STACK);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, new RegExp(`^stack ${STACK}: local testbed, 4 hosts\\n`));
    assert.match(info.out, /\n {2}grp1-control-1 +10\.239\.0\.\d+ +control +grp1\n/);
    assert.match(info.out, /\n {2}grp2-compute-1 +10\.239\.0\.\d+ +compute +grp2\n/);
    assert.match(info.out, new RegExp(`ssh: +ssh -F ${STATE_DIR}/${STACK}/ssh_config <alias>`));
    assert.match(info.out, /grp1-control-1: .*keystone/);
    assert.match(info.out, new RegExp(`benchmarks: ${PROJECT_DIR}/results/${STACK}/rally/summary\\.md`));
    assert.match(
      fs.readFileSync(path.join(PROJECT_DIR, "results", STACK, "rally", "summary.md"), "utf8"),
      /\n\| sleep \| concurrency=1 .* \| 10 \| 100\.0% \|/,
    );
  });

  test("a verb whose command fails prints the engine's error: the failing resource and its message", () => {
    const workload = path.join(PROJECT_DIR, "tests", "fixtures", "failing-workload");
    const failed = enos("bench", "--stack", STACK, "--workload", workload);
    assert.equal(failed.code, 1);
    assert.match(
      failed.err,
      /enos: failed:\ncommand:local:Command bench-run:\S+: command failed with exit code 1 locally/,
    );
    assert.match(failed.err, /There is no Scenario plugin `Dummy\.no_such_scenario`/, "the command's own output");
    assert.doesNotMatch(failed.err, /code: -?\d/);
  });

  test("tc --test writes its report; tc --reset removes the rules and tc applies them again", () => {
    const measured = enos("tc", "--test", "--stack", STACK);
    assert.equal(measured.code, 0, measured.out + measured.err);
    const report = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "results", STACK, "tc", "report.json"), "utf8"));
    assert.equal(report.stack, STACK);
    assert.equal(report.verdicts.length, 6, "every ordered pair of the three groups");
    const reset = enos("tc", "--reset", "--stack", STACK);
    assert.equal(reset.code, 0, reset.out + reset.err);
    assert.doesNotMatch(inNamespace("grp1-control-1", "tc qdisc show dev eth0"), /htb/);
    const again = enos("tc", "--stack", STACK);
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(inNamespace("grp1-control-1", "tc qdisc show dev eth0"), /qdisc htb/);
  });

  test("backup writes each host's archives, with the tc state inside, and an index", () => {
    const backup = enos("backup", "--stack", STACK);
    assert.equal(backup.code, 0, backup.out + backup.err);
    const root = path.join(PROJECT_DIR, "results", STACK, "backup");
    const [stamp] = fs.readdirSync(root);
    const files = fs.readdirSync(path.join(root, stamp));
    assert.ok(files.includes("index.json") && files.includes("index.md"));
    for (const host of ["grp1-control-1", "grp1-network-1", "grp2-compute-1", "grp3-compute-1"]) {
      assert.ok(files.includes(`${host}-tc.tar.gz`), `${host}-tc.tar.gz in ${files.join(" ")}`);
      const listing = spawnSync("tar", ["-tzf", path.join(root, stamp, `${host}-tc.tar.gz`)], {
        encoding: "utf8",
      }).stdout;
      assert.match(listing, /eth0-qdisc\.txt/);
    }
    const index = JSON.parse(fs.readFileSync(path.join(root, stamp, "index.json"), "utf8"));
    assert.deepEqual(index.failedHosts, []);
  });

  test("destroy tears the phases down and keeps the testbed, as Enos' did; --hard leaves nothing on this machine", () => {
    const phases = enos("destroy", "--stack", STACK);
    assert.equal(phases.code, 0, phases.err);
    assert.equal(
      inNamespace("grp1-control-1", "tc qdisc show dev eth0").includes("htb"),
      false,
      "the network emulation is gone",
    );
    assert.equal(inNamespace("grp1-control-1", "echo here"), "here\n", "the hosts are still up");
    const down = enos("destroy", "--hard", "--stack", STACK);
    assert.equal(down.code, 0, down.err);
    assert.deepEqual(leftovers(STACK, STATE_DIR), []);
  });
});
