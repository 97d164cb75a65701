import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { PROJECT_DIR } from "../../config/paths";
import { secretKinds } from "../../kolla/passwords";
import { cleanUp, clearInState, recordOf, type TestExperiment, testExperiment } from "../support/harness";

const provider = { type: "local", api_cidr: "10.245.0.0/24", external_cidr: "10.246.0.0/24" };
const topology = { grp1: { default: { control: 1, network: 1 } }, "grp[2-3]": { default: { compute: 1 } } };
const config = (kolla: Record<string, unknown>) => ({ provider, topology, kolla_mode: "check", kolla });
const ansibleInventory = path.join(PROJECT_DIR, ".venv", "bin", "ansible-inventory");
const template = () =>
  fs.readFileSync(
    path.join(PROJECT_DIR, ".venv", "share", "kolla-ansible", "etc_examples", "kolla", "passwords.yml"),
    "utf8",
  );

describe("kolla phase in check mode with the real kolla-ansible, on namespace hosts", { timeout: 900_000 }, () => {
  let experiment: TestExperiment;
  let configDir: string;
  before(async () => {
    experiment = await testExperiment(`it${process.pid}k`, config({ nova_compute_virt_type: "qemu" }));
    configDir = path.join(experiment.stateDir, experiment.name, "kolla");
  });
  after(async () => cleanUp(experiment));

  test("preview: one resource per generated key of passwords.yml, shown before anything exists", async () => {
    const kinds = secretKinds(template());
    const creates: string[] = [];
    await experiment.stack.preview({
      parallel: 64,
      onEvent: (event) => {
        const step = event.resourcePreEvent?.metadata;
        if (step?.op === "create" && step.urn.split("::").pop()!.startsWith("kolla-passwords-"))
          creates.push(`${step.type.split(":").pop()} ${step.urn.split("::").pop()}`);
      },
    });
    assert.ok(creates.includes("RandomPassword kolla-passwords-keystone_admin_password"), creates.join(", "));
    assert.ok(creates.includes("RandomBytes kolla-passwords-barbican_crypto_key"));
    assert.ok(creates.some((c) => c.endsWith(" kolla-passwords-nova_ssh_key")));
    const generated = Object.values(kinds).filter((kind) => typeof kind === "string" && kind !== "blank");
    assert.equal(creates.length, generated.length, "one resource per generated key");
  });

  test("up: every host answers Ansible; keystone would go on the control host, nova-compute on the computes", async () => {
    const up = await experiment.stack.up({ parallel: 64 });
    assert.equal(up.summary.result, "succeeded");
    const plan: Record<string, string[]> = (await recordOf(experiment.stack)).kollaPlan!;
    assert.deepEqual(Object.keys(plan).sort(), [
      "grp1-control-1",
      "grp1-network-1",
      "grp2-compute-1",
      "grp3-compute-1",
    ]);
    assert.ok(plan["grp1-control-1"].includes("keystone"), plan["grp1-control-1"].join(", "));
    assert.ok(!plan["grp2-compute-1"].includes("keystone"));
    // nova-compute is a container of the nova-cell role, on nova_cell_compute_group (`compute` by default).
    assert.ok(plan["grp2-compute-1"].includes("nova-cell") && plan["grp3-compute-1"].includes("nova-cell"));
    const cellDefaults = fs.readFileSync(
      path.join(
        PROJECT_DIR,
        ".venv",
        "share",
        "kolla-ansible",
        "ansible",
        "roles",
        "nova-cell",
        "defaults",
        "main.yml",
      ),
      "utf8",
    );
    assert.match(cellDefaults, /^nova_cell_compute_group: 'compute'$/m);
    const graph = JSON.parse(
      execFileSync(ansibleInventory, ["-i", path.join(configDir, "multinode"), "--list"], { encoding: "utf8" }),
    );
    const members = (group: string): string[] => [
      ...(graph[group]?.hosts ?? []),
      ...(graph[group]?.children ?? []).flatMap(members),
    ];
    assert.deepEqual(members("compute").sort(), ["grp2-compute-1", "grp3-compute-1"]);
    assert.deepEqual(members("keystone"), ["grp1-control-1"]);
    assert.deepEqual(members("neutron-l3-agent"), ["grp1-network-1"]);
    assert.equal(up.outputs.kolla.value.vip, "10.245.0.254", "Enos' first pop_ip: the last of the five extra IPs");
    assert.equal(up.outputs.kolla.value.mode, "check");
  });

  test("ansible-inventory --graph shows every host under its role group", () => {
    const text = execFileSync(ansibleInventory, ["-i", path.join(configDir, "multinode"), "--graph"], {
      encoding: "utf8",
    });
    for (const [group, host] of [
      ["control", "grp1-control-1"],
      ["network", "grp1-network-1"],
      ["compute", "grp2-compute-1"],
      ["compute", "grp3-compute-1"],
    ]) {
      assert.match(
        text,
        new RegExp(`@${group}:\\n([ |]*\\|--[^@\\n]*\\n)*?[ |]*\\|--${host}\\n`),
        `${host} under ${group}`,
      );
    }
  });

  const passwordsFile = () =>
    yaml.load(fs.readFileSync(path.join(configDir, "passwords.yml"), "utf8")) as Record<string, unknown>;

  test("passwords.yml: every key of the template, readable by its owner only", async () => {
    assert.equal(fs.statSync(path.join(configDir, "passwords.yml")).mode & 0o777, 0o600);
    const values = passwordsFile();
    assert.deepEqual(Object.keys(values).sort(), Object.keys(yaml.load(template()) as object).sort());
    assert.match(String(values.keystone_admin_password), /^[A-Za-z0-9]{40}$/);
  });

  test("passwords.yml: every generated value is encrypted in the state", async () => {
    const values = passwordsFile();
    // Every generated value (an ssh key by its public key and a line of its private key) is encrypted in the state.
    const generated = Object.entries(secretKinds(template())).filter(
      ([, kind]) => typeof kind === "string" && kind !== "blank",
    );
    for (const [key] of generated) {
      const value = values[key] as string | { private_key: string; public_key: string };
      const secrets =
        typeof value === "string" ? [value] : [value.public_key.slice(8, 60), value.private_key.split("\n")[1]];
      for (const secret of secrets) {
        assert.deepEqual(clearInState(experiment, secret), [], `${key} in clear in the state`);
      }
    }
  });

  test("a second up changes nothing and keeps the passwords", async () => {
    const before = fs.readFileSync(path.join(configDir, "passwords.yml"), "utf8");
    const up = await experiment.stack.up({ parallel: 64 });
    assert.deepEqual(Object.keys(up.summary.resourceChanges ?? {}), ["same"]);
    assert.equal(fs.readFileSync(path.join(configDir, "passwords.yml"), "utf8"), before);
  });

  test("a changed kolla variable: the preview touches the kolla phase only (globals.yml and the check)", async () => {
    await experiment.setConfig(config({ nova_compute_virt_type: "kvm" }));
    const changed: string[] = [];
    const onEvent = (event: EngineEvent) => {
      const step = event.resourcePreEvent?.metadata;
      // Resources only (not the default provider, whose inputs are the stack's config), replacements once.
      if (
        step &&
        ["create", "update", "delete", "replace"].includes(step.op) &&
        !step.type.startsWith("pulumi:providers:")
      )
        changed.push(`${step.op} ${step.urn.split("::").pop()}`);
    };
    await experiment.stack.preview({ parallel: 64, onEvent });
    assert.deepEqual(changed.sort(), ["replace kolla-check", "update kolla-globals"]);
  });

  test("a failing kolla step: the update's error shows kolla-ansible's own output, secrets masked", async () => {
    // globals.yml is kolla-ansible's extra vars: a Python that no host has fails Ansible's ping on every host.
    await experiment.setConfig(config({ nova_compute_virt_type: "qemu", ansible_python_interpreter: "/no/python3" }));
    const passwords = yaml.load(fs.readFileSync(path.join(configDir, "passwords.yml"), "utf8")) as Record<
      string,
      unknown
    >;
    await assert.rejects(experiment.stack.up({ parallel: 64 }), (error: Error) => {
      assert.match(error.message, /kolla-check/);
      assert.match(error.message, /\/no\/python3/, "Ansible's own failure is in the error");
      assert.doesNotMatch(error.message, /withheld/);
      for (const [key, value] of Object.entries(passwords)) {
        if (typeof value === "string" && value.length >= 8) assert.ok(!error.message.includes(value), key);
      }
      return true;
    });
  });
});
