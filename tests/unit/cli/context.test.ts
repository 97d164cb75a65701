import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { sampleReservation } from "../../../cli/new";
import { enosIn } from "../../support/helpers";

describe("./reservation.yaml is the experiment when -f and --stack are not given (Enos' default -f)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-cwd-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("with ./reservation.yaml: the first line says it is used, and it is", () => {
    fs.writeFileSync(path.join(dir, "reservation.yaml"), sampleReservation("g5k"));
    const check = enosIn(dir, "check");
    assert.equal(check.code, 0, check.err);
    assert.equal(
      check.err.split("\n")[0],
      "enos: using ./reservation.yaml (Enos' default -f; --stack dev for the dev stack)",
    );
    assert.match(check.out, /^provider:\n {2}type: g5k\n/);
  });

  test("--stack names another stack: the dev stack, the file left aside", () => {
    const check = enosIn(dir, "check", "--stack", "dev");
    assert.equal(check.code, 0, check.err);
    assert.doesNotMatch(check.err, /reservation\.yaml/);
    assert.match(check.out, /^provider:\n {2}type: local\n/);
  });

  test("without ./reservation.yaml: the dev stack", () => {
    fs.rmSync(path.join(dir, "reservation.yaml"));
    const check = enosIn(dir, "check");
    assert.equal(check.code, 0, check.err);
    assert.doesNotMatch(check.err, /reservation\.yaml/);
    assert.match(check.out, /^provider:\n {2}type: local\n/);
  });
});
