import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as yaml from "js-yaml";
import { PROJECT_DIR } from "../../../config/paths";

/** The kolla stack's patches of kolla-ansible: each file of the pinned release, with enos' additions only. */
const stack = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.kolla.yaml"), "utf8")) as {
  config: { "enos:patches": { name: string; src: string; dst: string }[] };
};
const tree = path.join(PROJECT_DIR, ".venv", "share", "kolla-ansible");

describe("kolla-ansible patches of the kolla stack", () => {
  for (const patch of stack.config["enos:patches"]) {
    test(`${patch.name}: the release's ${patch.dst}, every line kept in order, with additions only`, () => {
      const patched = fs.readFileSync(path.join(PROJECT_DIR, patch.src), "utf8").split("\n");
      const upstream = fs.readFileSync(path.join(tree, patch.dst), "utf8").split("\n");
      let at = 0;
      for (const line of upstream) {
        const found = patched.indexOf(line, at);
        assert.notEqual(found, -1, `${patch.src} lacks, or moves, the release's line: ${JSON.stringify(line)}`);
        at = found + 1;
      }
      assert.ok(patched.length > upstream.length, `${patch.src} adds nothing to the release's file`);
      assert.match(patched.join("\n"), /enos/, "the patch says what enos changed and why");
    });
  }
});
