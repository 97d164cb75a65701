import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { experimentDirOf, findExperimentDir, PROJECT_DIR } from "../../../config/paths";

describe("the experiment directory of a working directory", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-paths-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the nearest enos Pulumi.yaml up, as Pulumi finds its project; else the project", () => {
    const experiment = path.join(dir, "exp");
    fs.mkdirSync(path.join(experiment, "workload", "deep"), { recursive: true });
    assert.equal(findExperimentDir(experiment), undefined, "no Pulumi.yaml above a temporary directory");
    assert.equal(experimentDirOf(experiment), PROJECT_DIR);
    fs.writeFileSync(path.join(experiment, "Pulumi.yaml"), "# mine\nname: enos\nruntime: nodejs\nmain: /x/index.ts\n");
    assert.equal(findExperimentDir(path.join(experiment, "workload", "deep")), experiment);
    assert.equal(experimentDirOf(experiment), experiment);
    assert.equal(findExperimentDir(PROJECT_DIR), PROJECT_DIR);
  });

  test("another project's Pulumi.yaml, nearer: not an experiment (Pulumi would run that project)", () => {
    const other = path.join(dir, "exp", "other");
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, "Pulumi.yaml"), "name: website\nruntime: nodejs\n");
    assert.equal(findExperimentDir(other), undefined);
  });
});
