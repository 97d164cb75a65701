import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { kollaCopyFor } from "../../../components/kolla";
import { loadExperiment } from "../../../config/load";

describe("the kolla-ansible an experiment runs", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-cwd-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("{{ cwd }} in a patch is the experiment directory (Enos' working directory), not the tool's", () => {
    fs.writeFileSync(path.join(dir, "start.yml"), "- name: start mariadb\n");
    const config = loadExperiment({
      baseDir: dir,
      stack: {
        provider: "local",
        resources: { control: 1, network: 1, compute: 1 },
        patches: [{ name: "mariadb", src: "{{ cwd }}/start.yml", dst: "kolla/ansible/roles/mariadb/tasks/start.yml" }],
      },
    });
    const [patch] = kollaCopyFor(config).patches;
    assert.equal(patch.src, path.join(dir, "start.yml"));
  });
});
