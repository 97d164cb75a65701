import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expandKeys, expandRange } from "../../../config/ranges";
import { parseDelay, parseLoss, parseRate } from "../../../config/units";
import { loadYaml11 } from "../../../config/yaml11";

describe("group ranges", () => {
  test("a plain name stands for itself", () => assert.deepEqual(expandRange("grp1"), ["grp1"]));
  test("grp[2-4]", () => assert.deepEqual(expandRange("grp[2-4]"), ["grp2", "grp3", "grp4"]));
  test("grp[1-1] is one group", () => assert.deepEqual(expandRange("grp[1-1]"), ["grp1"]));
  test("a suffix after the range is kept", () => assert.deepEqual(expandRange("site[1-2]-a"), ["site1-a", "site2-a"]));
  test("multi-digit bounds", () => assert.equal(expandRange("g[8-12]").join(), "g8,g9,g10,g11,g12"));
  test("a reversed range says to swap the bounds", () =>
    assert.throws(() => expandRange("grp[4-2]"), /counts down \(4 > 2\).*grp\[2-4\]/));
  for (const bad of ["grp[a-b]", "grp[1-]", "grp[-2]", "grp[1-2", "grp1-2]", "g[1-2][3-4]", "grp[]"]) {
    test(`malformed: ${bad}`, () =>
      assert.throws(() => expandRange(bad), /not a valid group range; write it as name\[first-last\]/));
  }
  test("a range colliding with a plain group name is refused", () =>
    assert.throws(
      () => expandKeys({ grp2: 1, "grp[1-3]": 2 }),
      /"grp2" is defined twice \(by "grp2" and "grp\[1-3\]"\)/,
    ));
  test("two overlapping ranges are refused", () =>
    assert.throws(() => expandKeys({ "g[1-3]": 1, "g[3-4]": 2 }), /"g3" is defined twice/));
  test("keys expand in order with their values", () =>
    assert.deepEqual(expandKeys({ a: 1, "b[1-2]": 2 }), { a: 1, b1: 2, b2: 2 }));
});

describe("YAML 1.1 as Enos read it", () => {
  test("yes/no/on/off are booleans, y/n stay text as in PyYAML", () => {
    assert.deepEqual(loadYaml11("[yes, No, ON, off, y, n, True, FALSE]"), [
      true,
      false,
      true,
      false,
      "y",
      "n",
      true,
      false,
    ]);
  });
  test("quoted yes stays a string", () => assert.deepEqual(loadYaml11('a: "yes"'), { a: "yes" }));
  test("a key given twice keeps its last value", () =>
    assert.deepEqual(loadYaml11("a: 1\nb: 2\na: 3\n"), { a: 3, b: 2 }));
  test("anchors, aliases and merge keys", () => {
    assert.deepEqual(loadYaml11("h: &h {x: 1}\nl: [*h]\nm: {<<: *h, y: 2}\n"), {
      h: { x: 1 },
      l: [{ x: 1 }],
      m: { x: 1, y: 2 },
    });
  });
  test("walltimes and dates stay text", () =>
    assert.deepEqual(loadYaml11("w: 02:00:00\nd: 2026-12-01\n"), { w: "02:00:00", d: "2026-12-01" }));
});

describe("units of network constraints", () => {
  test("rates in bits and in tc's bytes-per-second forms", () => {
    assert.equal(parseRate("100mbit"), 100e6);
    assert.equal(parseRate("1gbit"), 1e9);
    assert.equal(parseRate("10Mbit"), 10e6);
    assert.equal(parseRate("1mbps"), 8e6);
    assert.equal(parseRate("1kibit"), 1024);
  });
  test("delays", () => {
    assert.equal(parseDelay("10ms"), 10_000);
    assert.equal(parseDelay("1.5s"), 1_500_000);
    assert.equal(parseDelay("250us"), 250);
  });
  test("loss", () => {
    assert.equal(parseLoss("0.1%"), 0.1);
    assert.equal(parseLoss(0), 0);
  });
  test("a number without unit is refused with an example", () => {
    assert.throws(() => parseRate("100"), /e\.g\. 100mbit/);
    assert.throws(() => parseDelay("10"), /e\.g\. 10ms/);
  });
});
