import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import * as random from "@pulumi/random";
import { openStack } from "../../cli/workspace";
import { PULUMI_HOME } from "../../config/paths";
import { TEST_PASSPHRASE } from "../support/harness";

// Conformance of the project's pulumi-resource-random (plugins/random) with @pulumi/random 4.21.2: only
// the SDK's own classes, through the real CLI and engine, with the plugin as scripts/install-plugins
// installs it. Each stack lives in a directory of its own, so this file can run beside any other.

const VERSION: string = require("@pulumi/random/package.json").pulumi.version;
const PLUGIN = path.join(PULUMI_HOME, "plugins", `resource-random-v${VERSION}`, "pulumi-resource-random");

function requirePlugin(): void {
  assert.ok(
    fs.existsSync(PLUGIN),
    `${PLUGIN} is missing: run scripts/install-plugins with the CLI's bin directory (after tsc)`,
  );
}

interface Engine {
  dir: string;
  stack: Stack;
  state(): string;
  resources(): Promise<{ type: string; urn: string; id?: string }[]>;
}

async function engine(stackName: string, program: () => Promise<Record<string, unknown>>): Promise<Engine> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `enos-${stackName}-`));
  const stack = await openStack(stackName, "random-plugin", program, {
    stateDir: dir,
    workDir: dir,
    passphrase: TEST_PASSPHRASE,
  });
  return {
    dir,
    stack,
    state: () => fs.readFileSync(path.join(dir, ".pulumi", "stacks", "random-plugin", `${stackName}.json`), "utf8"),
    async resources() {
      return ((await stack.exportStack()).deployment.resources ?? []).filter((r: { type: string }) =>
        r.type.startsWith("random:index/"),
      );
    },
  };
}

/** Checked by glibc's libxcrypt (Python's crypt module), not by the bcrypt library the plugin uses. */
function bcryptVerifies(password: string, hash: string): boolean {
  const script = "import crypt, json, sys; p, h = json.load(sys.stdin); print(crypt.crypt(p, h) == h)";
  return (
    execFileSync("python3", ["-W", "ignore", "-c", script], {
      input: JSON.stringify([password, hash]),
      encoding: "utf8",
    }).trim() === "True"
  );
}

const UPPER = /[A-Z]/g,
  LOWER = /[a-z]/g,
  DIGIT = /[0-9]/g;
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

test("random plugin: every SDK resource created, secret, stable, replaced on an input change", {
  timeout: 300_000,
}, async () => {
  requirePlugin();
  let keeper = "first";
  let stringLength = 12;
  const e = await engine(`rnd${process.pid}a`, async () => {
    const password = new random.RandomPassword("pw", {
      length: 24,
      minUpper: 2,
      minLower: 2,
      minNumeric: 2,
      minSpecial: 2,
      overrideSpecial: "!#",
      keepers: { k: keeper, hidden: pulumi.secret("keeper-kept-secret") },
    });
    const str = new random.RandomString("str", { length: stringLength, special: false });
    const uuid = new random.RandomUuid("uuid");
    const uuid4 = new random.RandomUuid4("uuid4");
    const uuid7 = new random.RandomUuid7("uuid7");
    const bytes = new random.RandomBytes("bytes", { length: 32 });
    const id = new random.RandomId("id", { byteLength: 8, prefix: "p-" });
    const integer = new random.RandomInteger("int", { min: 5, max: 9 });
    const seeded = [1, 2].map(
      (n) => new random.RandomInteger(`seeded${n}`, { min: 0, max: 1_000_000, seed: "same seed" }),
    );
    const shuffle = new random.RandomShuffle("shuffle", { inputs: ["a", "b", "c", "d"], resultCount: 6 });
    return {
      password: password.result,
      hash: password.bcryptHash,
      passwordId: password.id,
      str: str.result,
      strId: str.id,
      uuid: uuid.result,
      uuidId: uuid.id,
      uuid4: uuid4.result,
      uuid7: uuid7.result,
      base64: bytes.base64,
      hex: bytes.hex,
      bytesId: bytes.id,
      b64Url: id.b64Url,
      b64Std: id.b64Std,
      idHex: id.hex,
      dec: id.dec,
      idId: id.id,
      integer: integer.result,
      seeded: seeded.map((s) => s.result),
      shuffle: shuffle.results,
    };
  });
  try {
    // A preview before anything exists shows every resource to create.
    const creates: string[] = [];
    await e.stack.preview({
      onEvent: (ev) => ev.resourcePreEvent?.metadata.op === "create" && creates.push(ev.resourcePreEvent.metadata.type),
    });
    assert.equal(creates.filter((t) => t.startsWith("random:")).length, 11);

    const up = await e.stack.up();
    assert.equal(up.summary.result, "succeeded");
    const o = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    const types = (await e.resources()).map((r) => r.type).sort();
    assert.deepEqual(
      [...new Set(types)],
      [
        "random:index/randomBytes:RandomBytes",
        "random:index/randomId:RandomId",
        "random:index/randomInteger:RandomInteger",
        "random:index/randomPassword:RandomPassword",
        "random:index/randomShuffle:RandomShuffle",
        "random:index/randomString:RandomString",
        "random:index/randomUuid4:RandomUuid4",
        "random:index/randomUuid7:RandomUuid7",
        "random:index/randomUuid:RandomUuid",
      ],
    );

    // RandomPassword: its rules, id "none", result and bcryptHash secret, the hash a real bcrypt of cost 10.
    assert.equal(o.password.length, 24);
    assert.match(o.password, /^[A-Za-z0-9!#]+$/);
    for (const re of [UPPER, LOWER, DIGIT, /[!#]/g])
      assert.ok(count(o.password, re) >= 2, `${re} at least twice in the password`);
    assert.equal(o.passwordId, "none");
    assert.equal(up.outputs.password.secret, true);
    assert.equal(up.outputs.hash.secret, true);
    assert.match(o.hash, /^\$2[aby]\$10\$/);
    assert.ok(bcryptVerifies(o.password, o.hash), "bcryptHash verifies against the password");
    assert.ok(!bcryptVerifies(`${o.password}x`, o.hash), "bcryptHash rejects another password");

    // The others, with upstream's ids and encodings.
    assert.match(o.str, /^[A-Za-z0-9]{12}$/);
    assert.equal(o.strId, o.str);
    assert.match(o.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(o.uuidId, o.uuid);
    assert.match(o.uuid4, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(o.uuid7, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A version 7 UUID starts with the Unix time in milliseconds: made during this test.
    assert.ok(
      Math.abs(parseInt(o.uuid7.replace(/-/g, "").slice(0, 12), 16) - Date.now()) < 600_000,
      `${o.uuid7} holds the time of its making`,
    );
    assert.equal(Buffer.from(o.base64, "base64").length, 32);
    assert.equal(Buffer.from(o.base64, "base64").toString("hex"), o.hex);
    assert.equal(up.outputs.base64.secret, true);
    assert.equal(up.outputs.hex.secret, true);
    assert.equal(o.b64Url, `p-${o.idId}`);
    const idBytes = Buffer.from(o.idId, "base64url");
    assert.equal(idBytes.length, 8);
    assert.equal(o.b64Std, `p-${idBytes.toString("base64")}`);
    assert.equal(o.idHex, `p-${idBytes.toString("hex")}`);
    assert.equal(o.dec, `p-${BigInt(`0x${idBytes.toString("hex")}`)}`);
    assert.ok(Number.isInteger(o.integer) && o.integer >= 5 && o.integer <= 9, `${o.integer} in [5, 9]`);
    assert.equal(o.seeded[0], o.seeded[1], "one seed, one result");
    assert.equal(o.shuffle.length, 6);
    assert.deepEqual([...o.shuffle.slice(0, 4)].sort(), ["a", "b", "c", "d"], "the first 4 are a permutation");

    // Secrets are encrypted in the state file: none of their values, nor the secret keeper, in plain.
    const state = e.state();
    for (const value of [o.password, o.hash, o.base64, o.hex, "keeper-kept-secret"]) {
      assert.ok(!state.includes(value), `${value.slice(0, 6)}… is not in the state in plain`);
    }

    const again = await e.stack.up();
    assert.deepEqual(again.summary.resourceChanges, { same: 12 });
    assert.deepEqual(
      Object.fromEntries(Object.entries(again.outputs).map(([k, v]) => [k, v.value])),
      o,
      "every value is kept",
    );

    // A changed keeper replaces the password only; a changed input replaces its resource only.
    keeper = "second";
    stringLength = 13;
    const replaced: string[] = [];
    const changed = await e.stack.up({
      onEvent: (ev) =>
        ev.resourcePreEvent?.metadata.op === "replace" &&
        replaced.push(ev.resourcePreEvent.metadata.urn.split("::").pop()!),
    });
    assert.deepEqual(replaced.sort(), ["pw", "str"]);
    assert.deepEqual(changed.summary.resourceChanges, { replace: 2, same: 10 });
    assert.notEqual(changed.outputs.password.value, o.password);
    assert.match(changed.outputs.str.value, /^[A-Za-z0-9]{13}$/);
    assert.equal(changed.outputs.uuid.value, o.uuid);
    assert.ok(bcryptVerifies(changed.outputs.password.value, changed.outputs.hash.value));

    const down = await e.stack.destroy();
    assert.equal(down.summary.result, "succeeded");
    assert.deepEqual(await e.resources(), []);
  } finally {
    fs.rmSync(e.dir, { recursive: true, force: true });
  }
});

test("random plugin: character rules hold over many generations", { timeout: 300_000 }, async () => {
  requirePlugin();
  const cases: { name: string; args: random.RandomPasswordArgs; alphabet: RegExp; minimums: [RegExp, number][] }[] = [
    { name: "alnum", args: { length: 40, special: false }, alphabet: /^[A-Za-z0-9]+$/, minimums: [] },
    {
      name: "upper-only",
      args: { length: 30, lower: false, numeric: false, special: false },
      alphabet: /^[A-Z]+$/,
      minimums: [],
    },
    { name: "defaults", args: { length: 30 }, alphabet: /^[A-Za-z0-9!@#$%&*()\-_=+[\]{}<>:?]+$/, minimums: [] },
    {
      name: "minimums",
      args: { length: 12, minUpper: 3, minLower: 3, minNumeric: 3, minSpecial: 3 },
      alphabet: /^[A-Za-z0-9!@#$%&*()\-_=+[\]{}<>:?]+$/,
      minimums: [
        [UPPER, 3],
        [LOWER, 3],
        [DIGIT, 3],
        [/[!@#$%&*()\-_=+[\]{}<>:?]/g, 3],
      ],
    },
    // bcrypt's salt alphabet, as Part B uses it; `number: false` is the deprecated spelling of numeric.
    {
      name: "salt",
      args: { length: 22, number: false, overrideSpecial: "./", minNumeric: 1 },
      alphabet: /^[A-Za-z0-9./]+$/,
      minimums: [[DIGIT, 1]],
    },
  ];
  const copies = 12;
  const e = await engine(`rnd${process.pid}b`, async () =>
    Object.fromEntries(
      cases.flatMap((c) =>
        Array.from({ length: copies }, (_, i) => [
          `${c.name}${i}`,
          new random.RandomPassword(`${c.name}${i}`, c.args).result,
        ]),
      ),
    ),
  );
  try {
    const up = await e.stack.up();
    const seen = new Set<string>();
    for (const c of cases) {
      for (let i = 0; i < copies; i++) {
        const value: string = up.outputs[`${c.name}${i}`].value;
        assert.equal(value.length, c.args.length, `${c.name}${i}: length`);
        assert.match(value, c.alphabet, `${c.name}${i}: alphabet`);
        for (const [re, min] of c.minimums)
          assert.ok(
            count(value, re) >= min,
            `${c.name}${i}: ${re} at least ${min} times in ${value.length} characters`,
          );
        if (c.name === "alnum") for (const ch of value) seen.add(ch);
      }
    }
    // 480 draws from 62 characters leave 62·(61/62)^480 ≈ 0.025 of them unseen on average: three or more
    // unseen (a failure) has a probability of about 3e-6, while a biased or narrowed alphabet fails.
    assert.ok(seen.size >= 60, `the alphanumeric passwords use the whole alphabet (${seen.size} of 62 seen)`);
    await e.stack.destroy();
  } finally {
    fs.rmSync(e.dir, { recursive: true, force: true });
  }
});

test("random plugin: invalid inputs fail at check, naming the property", { timeout: 300_000 }, async () => {
  requirePlugin();
  let make: () => void = () => undefined;
  const e = await engine(`rnd${process.pid}c`, async () => {
    make();
    return {};
  });
  try {
    const cases: [string, () => void, RegExp][] = [
      [
        "length too small for the minimums",
        () => new random.RandomPassword("short", { length: 3, minUpper: 2, minLower: 2 }),
        /length \(3\) is less than minUpper \+ minLower \+ minNumeric \+ minSpecial \(4\)/,
      ],
      [
        "empty character set",
        () =>
          new random.RandomString("empty", { length: 4, upper: false, lower: false, numeric: false, special: false }),
        /at least one of upper, lower, numeric, special must be true/,
      ],
      [
        "number and numeric differ",
        () => new random.RandomPassword("both", { length: 4, number: true, numeric: false }),
        /number \(true\) and numeric \(false\) differ/,
      ],
      [
        "max below min",
        () => new random.RandomInteger("range", { min: 10, max: 1 }),
        /max \(1\) is less than min \(10\)/,
      ],
      ["zero bytes", () => new random.RandomBytes("none", { length: 0 }), /length must be at least 1/],
    ];
    for (const [what, program, message] of cases) {
      make = program;
      await assert.rejects(e.stack.up(), message, what);
    }
    assert.deepEqual(await e.resources(), [], "nothing was created");
  } finally {
    fs.rmSync(e.dir, { recursive: true, force: true });
  }
});
