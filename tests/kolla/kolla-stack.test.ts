import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { PROJECT_DIR } from "../../config/paths";
import { cleanUp, leftovers, recordOf, sshRun, type TestExperiment, testExperiment } from "../support/harness";
import { kollaStackConfig } from "../support/kolla-stack";

/**
 * `npm run test:kolla`: the kolla stack (Pulumi.kolla.yaml) on subnets of its own, end to end: kolla-ansible
 * deploys OpenStack on 3 machine hosts from the images kolla/images/build made, init's smoke check passes,
 * Rally's OpenStack scenarios pass, a second up changes nothing and destroy leaves nothing. About 30 minutes.
 */
describe("the kolla stack: OpenStack deployed by kolla-ansible, then init and Rally", { timeout: 3_600_000 }, () => {
  let kolla: TestExperiment;
  let sshConfig: string;
  const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(0);
  const adminOpenrc = () => path.join(kolla.stateDir, kolla.name, "kolla", "admin-openrc.sh");

  before(async () => {
    kolla = await testExperiment(`kl${process.pid}`, {});
    await kolla.setConfig(kollaStackConfig(kolla.dir, { api_cidr: "10.196.0.0/24", external_cidr: "10.197.0.0/24" }));
  });
  after(async () => cleanUp(kolla));

  test("up deploys the cloud, init's smoke check passes through the VIP, Rally's scenarios all pass", async (t) => {
    const started = Date.now();
    const up = await kolla.stack.up({ parallel: 64 });
    t.diagnostic(`up from nothing: ${seconds(started)} s`);
    // Each step's time, as Pulumi reports it: "kolla-deploy created (564s)".
    for (const [, step, took] of up.stdout.matchAll(/ ((?:kolla-|init|bench-run)\S*) created \(([\d.]+)s\)/g))
      if (!step.startsWith("kolla-passwords")) t.diagnostic(`${step}: ${took} s`);
    assert.equal(up.summary.result, "succeeded");
    sshConfig = up.outputs.sshConfig.value;
    assert.match(String(up.outputs.smokeCheck?.value), /^smoke check passed: an m1\.tiny \S+ server became ACTIVE/);
    const openrc = fs.readFileSync(adminOpenrc(), "utf8");
    assert.match(openrc, /OS_AUTH_URL='?http:\/\/10\.196\.0\.254:5000/, "the cloud answers on the VIP");
    const summary = fs.readFileSync(path.join(kolla.dir, "results", kolla.name, "rally", "summary.md"), "utf8");
    t.diagnostic(summary);
    // The scenarios' rows: the table's lines but its header.
    const rows = summary.split("\n").filter((line) => /^\| [a-z]/.test(line) && !line.startsWith("| scenario |"));
    assert.equal(rows.length, 5, summary);
    for (const row of rows) assert.match(row, /\| 100\.0% \|/, row);
  });

  test("the services run in kolla's containers on their hosts, the VIP on the network host", async () => {
    const { hosts } = await recordOf(kolla.stack);
    const containers = (alias: string) =>
      sshRun(sshConfig, alias, "docker ps --format '{{.Names}}'").trim().split("\n").sort();
    assert.ok(containers("control-1").includes("keystone"));
    assert.ok(containers("control-1").includes("nova_api"));
    assert.ok(containers("compute-1").includes("nova_compute_fake_1"));
    assert.ok(containers("network-1").includes("neutron_l3_agent"));
    assert.deepEqual(hosts.map((h) => h.alias).sort(), ["compute-1", "control-1", "network-1"]);
    // Nova's services registered under their hosts' names (22.2.0 gave the conductor a fake compute's).
    const openstack = path.join(PROJECT_DIR, ".venv", "bin", "openstack");
    const services = execFileSync("bash", [
      "-c",
      `. ${adminOpenrc()} && ${openstack} compute service list -f value -c Binary -c Host`,
    ]);
    assert.deepEqual(String(services).trim().split("\n").sort(), [
      "nova-compute compute-1",
      "nova-conductor control-1",
      "nova-scheduler control-1",
    ]);
  });

  test("a second up changes nothing", async (t) => {
    const started = Date.now();
    const again = await kolla.stack.up({ parallel: 64 });
    t.diagnostic(`no-op re-up: ${seconds(started)} s`);
    const changed = Object.entries(again.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
    assert.deepEqual(changed, []);
  });

  test("destroy leaves nothing: hosts, engines, mounts, veths, cgroups", async (t) => {
    const started = Date.now();
    await kolla.stack.destroy({ parallel: 64 });
    t.diagnostic(`destroy: ${seconds(started)} s`);
    assert.deepEqual(
      leftovers(kolla.name, kolla.stateDir).filter((l) => !l.startsWith("file")),
      [],
    );
  });
});
