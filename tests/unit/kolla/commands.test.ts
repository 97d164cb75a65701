import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { PROJECT_DIR } from "../../../config/paths";
import { PREPARE_HOSTS, renderStepScript } from "../../../kolla/commands";

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
});
