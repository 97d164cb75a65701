import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { PROJECT_DIR } from "../../../config/paths";
import { PREPARE_HOSTS, prelude, renderStepScript } from "../../../kolla/commands";

const run = { venv: "/v", configDir: "/k", sshConfig: "/s/ssh_config" };

describe("kolla deploy steps", () => {
  test("bootstrap-servers: kolla-ansible's after its galaxy collections; enos' preparation on hosts that come with Docker", () => {
    const kolla = renderStepScript(run, "bootstrap-servers");
    assert.match(kolla, /kolla-ansible install-deps/);
    assert.match(kolla, /^kolla-ansible bootstrap-servers -i '\/k\/multinode' /m);

    const prepared = renderStepScript({ ...run, engineInstalled: true }, "bootstrap-servers");
    assert.doesNotMatch(prepared, /install-deps|kolla-ansible bootstrap-servers/);
    assert.match(prepared, /the hosts come with Docker; enos prepares them/);
    assert.ok(
      prepared.includes(`ansible-playbook -i '/k/multinode' -e @'/k/globals.yml' '${PREPARE_HOSTS}'`),
      prepared,
    );
    // The other steps are kolla-ansible's either way.
    assert.equal(renderStepScript({ ...run, engineInstalled: true }, "deploy"), renderStepScript(run, "deploy"));
  });

  test("the preparation playbook is valid Ansible for the release's ansible-core", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-prepare-"));
    try {
      const inventory = path.join(dir, "hosts");
      fs.writeFileSync(inventory, "[baremetal]\nh1\n");
      const check = spawnSync(
        path.join(PROJECT_DIR, ".venv", "bin", "ansible-playbook"),
        ["--syntax-check", "-i", inventory, PREPARE_HOSTS],
        { encoding: "utf8" },
      );
      assert.equal(check.status, 0, check.stderr + check.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a failed run ends naming its failed tasks (not those ignored or rescued), beside another callback", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-failures-"));
    try {
      const play = (tasks: string) =>
        `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n${tasks}`;
      const ignored = "    - name: fail ignored\n      fail: {msg: not this one}\n      ignore_errors: true\n";
      const rescued =
        "    - block:\n        - name: fail rescued\n          fail: {msg: nor this one}\n      rescue:\n        - debug: {msg: rescued}\n";
      const failed = "    - name: fail for real\n      fail: {msg: the reason}\n";
      const runPlay = (tasks: string) => {
        fs.writeFileSync(path.join(dir, "play.yml"), play(tasks));
        fs.writeFileSync(path.join(dir, "plays.jsonl"), "");
        const script = [
          ...prelude({ ...run, venv: path.join(PROJECT_DIR, ".venv") }),
          "ansible-playbook -i localhost, play.yml",
        ].join("\n");
        // Another enabled callback (as monitoring's) keeps working beside enos_failures.
        const env = { ...process.env, ANSIBLE_CALLBACKS_ENABLED: "enos_plays", ENOS_PLAYS_FILE: "plays.jsonl" };
        return spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", env });
      };
      const failure = runPlay(ignored + rescued + failed);
      assert.notEqual(failure.status, 0, failure.stdout);
      const tail = failure.stderr.trimEnd().split("\n");
      assert.deepEqual(tail.slice(-2), [
        "enos: the tasks that failed:",
        "  failed: [localhost] fail for real: the reason",
      ]);
      assert.match(fs.readFileSync(path.join(dir, "plays.jsonl"), "utf8"), /"hosts": \["localhost"\]/);

      const success = runPlay(ignored + rescued);
      assert.equal(success.status, 0, success.stderr + success.stdout);
      assert.doesNotMatch(success.stderr, /enos: the tasks that failed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
