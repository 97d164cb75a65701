import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { sampleReservation } from "../../../cli/new";
import { loadExperiment } from "../../../config/load";
import { PROJECT_DIR } from "../../../config/paths";
import { PROVIDER_TYPES } from "../../../config/schema";
import { enosIn } from "../../support/helpers";

describe("enos new: a commented sample reservation.yaml, as Enos printed", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-new-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** The sample as `enos deploy` would read it: a reservation file through the config loader. */
  const load = (name: string, text: string) => {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, text);
    return loadExperiment({ stack: { reservationFile: file }, baseDir: dir });
  };

  test("`enos new > reservation.yaml` (the seed's getting started) prints the Grid'5000 sample, as Enos' opens", () => {
    const run = enosIn(dir, "new");
    assert.equal(run.code, 0, run.err);
    assert.equal(run.err, "");
    assert.match(run.out, /^# Grid'5000 reservation parameters/m);
    assert.equal(load("default", run.out).provider.type, "g5k");
  });

  test("--provider X prints that testbed's sample", () => {
    const run = enosIn(dir, "new", "--provider", "static");
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, sampleReservation("static"));
    assert.match(run.out, /^# Static provider parameters/m);
  });

  for (const provider of PROVIDER_TYPES) {
    test(`${provider}'s sample: commented, and the config loader takes it without error or warning`, () => {
      const text = sampleReservation(provider);
      assert.match(text, /^# .*\n(.*\n)*^registry:\n {2}type: none\n/m, "the keys every experiment has follow");
      const config = load(provider, text);
      assert.equal(config.provider.type, provider);
      assert.deepEqual(config.warnings, []);
    });
  }

  test("an unknown testbed is a usage error naming the testbeds", () => {
    const run = enosIn(dir, "new", "--provider", "grid5000");
    assert.equal(run.code, 2);
    assert.match(run.err, /--provider grid5000 is not a testbed; testbeds are local, static, g5k/);
  });

  test("--dir DIR makes an experiment directory with the sample; --stack NAME writes Pulumi.NAME.yaml there", () => {
    const experiment = path.join(dir, "my-experiment");
    const made = enosIn(dir, "new", "--dir", experiment);
    assert.equal(made.code, 0, made.err);
    assert.match(made.err, /my-experiment is now an experiment directory \(wrote Pulumi\.yaml, \.gitignore\)/);
    assert.equal(fs.readFileSync(path.join(experiment, "reservation.yaml"), "utf8"), sampleReservation("g5k"));
    assert.match(fs.readFileSync(path.join(experiment, "Pulumi.yaml"), "utf8"), /^name: enos\nruntime: nodejs\n/m);
    assert.equal(fs.readFileSync(path.join(experiment, ".gitignore"), "utf8"), ".pulumi-state/\n");
    const stack = enosIn(experiment, "new", "--provider", "static", "--stack", "mine");
    assert.equal(stack.code, 0, stack.err);
    assert.match(fs.readFileSync(path.join(experiment, "Pulumi.mine.yaml"), "utf8"), /type: static/);
    assert.ok(!fs.existsSync(path.join(PROJECT_DIR, "Pulumi.mine.yaml")), "not in the project");
    const check = enosIn(experiment, "check", "--stack", "mine");
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /type: static/);
    const other = path.join(dir, "website");
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, "Pulumi.yaml"), "name: website\nruntime: nodejs\n");
    const refused = enosIn(dir, "new", "--dir", other);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /website\/Pulumi\.yaml is another Pulumi project's: pick another directory/);
    assert.deepEqual(fs.readdirSync(other), ["Pulumi.yaml"], "nothing written there");
  });
});
