import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { renderRallyRunScript } from "../../../components/bench/render";
import { ConfigError } from "../../../config/errors";
import { PROJECT_DIR } from "../../../config/paths";
import { argsSlug, type BenchRun, cartesianProduct, runDir } from "../../../workloads/expand";
import { readWorkload } from "../../../workloads/run-file";
import { FIXTURES } from "../../support/helpers";

/** A workload directory holding this run.yml and these (empty) files. */
function workloadDir(runYml: string, files: string[] = []): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-workload-"));
  fs.writeFileSync(path.join(dir, "run.yml"), runYml);
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), "");
  }
  return dir;
}

function problemsOf(dir: string): string[] {
  try {
    readWorkload(dir);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.fail("accepted");
}

describe("run.yml: Enos' semantics", () => {
  test("the seed's example runs its scenario once per concurrency, with the scenario's times and SLA", () => {
    const { runs } = readWorkload(path.join(FIXTURES, "seed", "bench"));
    assert.deepEqual(
      runs,
      [1, 2, 4].map((concurrency) => ({
        type: "rally",
        name: "boot and list servers",
        file: "nova-boot-list-cc.yml",
        plugin: null,
        args: { concurrency, times: 50, sla_max_avg_duration: 30 },
      })),
    );
    assert.equal(runDir(runs[1]), "rally/boot-and-list-servers/concurrency-2_times-50_sla_max_avg_duration-30");
  });

  test("the product varies the last key fastest; a scalar is a one-element list", () => {
    assert.deepEqual(cartesianProduct({ a: [1, 2], b: "x", c: [true, false] }), [
      { a: 1, b: "x", c: true },
      { a: 1, b: "x", c: false },
      { a: 2, b: "x", c: true },
      { a: 2, b: "x", c: false },
    ]);
    assert.deepEqual(cartesianProduct({}), [{}], "no args: one run");
    assert.deepEqual(cartesianProduct({ m: { k: 1 } }), [{ m: { k: 1 } }], "a mapping is one value");
  });

  test("scenario args shadow the type's key by key; enabled at scenario level wins over the type's", () => {
    const dir = workloadDir(
      `
rally:
  enabled: no
  args: {times: [1, 2], concurrency: 3}
  scenarios:
    - {name: off by the type, file: a.yml}
    - {name: on by itself, file: b.yml, enabled: yes, args: {times: 5, sleep: [0.1, 0.2]}, plugin: plugins}
shaker:
  scenarios:
    - {name: l2, file: openstack/full_l2}
    - {name: l3, file: openstack/perf_l3_north_south, enabled: false}
`,
      ["b.yml", "plugins/x.py"],
    );
    const { runs } = readWorkload(dir);
    fs.rmSync(dir, { recursive: true });
    assert.deepEqual(runs, [
      {
        type: "rally",
        name: "on by itself",
        file: "b.yml",
        plugin: "plugins",
        args: { times: 5, concurrency: 3, sleep: 0.1 },
      },
      {
        type: "rally",
        name: "on by itself",
        file: "b.yml",
        plugin: "plugins",
        args: { times: 5, concurrency: 3, sleep: 0.2 },
      },
      { type: "shaker", name: "l2", file: "openstack/full_l2", plugin: null, args: {} },
    ]);
  });

  test("a disabled scenario may name a file that does not exist", () => {
    const dir = workloadDir(
      "rally:\n  scenarios:\n    - {name: later, file: missing.yml, enabled: false}\n    - {name: now, file: a.yml}\n",
      ["a.yml"],
    );
    assert.equal(readWorkload(dir).runs.length, 1);
    fs.rmSync(dir, { recursive: true });
  });

  test("an absolute task or plugin path is used as given; a relative one is the workload directory's", () => {
    const elsewhere = workloadDir("", ["task.yml", "plugins/p.py"]);
    const dir = workloadDir(
      `rally:\n  scenarios:\n    - {name: a, file: ${elsewhere}/task.yml, plugin: ${elsewhere}/plugins}\n` +
        "    - {name: b, file: ../b.yml}\n",
      ["../b.yml"],
    );
    const [absolute, relative] = readWorkload(dir).runs;
    const paths = { bin: "/v/bin", shakerBin: "/s/bin", workloadDir: dir, resultsDir: "/r", conditions: "/r/c" };
    const id = { runId: null, fingerprint: "f".repeat(64) };
    const requestOf = (run: BenchRun) =>
      JSON.parse(/request\.json" <<'ENOS_JSON'\n([\s\S]*?)\nENOS_JSON/.exec(renderRallyRunScript(run, id, paths))![1]);
    assert.equal(requestOf(absolute).task, `${elsewhere}/task.yml`);
    assert.deepEqual(requestOf(absolute).pluginPaths, [`${elsewhere}/plugins`]);
    assert.equal(requestOf(relative).task, path.join(path.dirname(dir), "b.yml"));
    for (const d of [dir, elsewhere, path.join(path.dirname(dir), "b.yml")]) fs.rmSync(d, { recursive: true });
  });

  test("slugs are file-name safe and long args stay short and distinct", () => {
    assert.equal(argsSlug({}), "default");
    assert.equal(argsSlug({ "flavor name": "m1.tiny/x", n: [1, 2] }), "flavor-name-m1.tiny-x_n-1-2");
    const long = (v: number) => argsSlug({ key: "x".repeat(200), v });
    assert.ok(long(1).length <= 120);
    assert.notEqual(long(1), long(2));
  });

  test("the sample workloads expand", () => {
    const dummy = readWorkload(path.join(PROJECT_DIR, "workloads", "dummy")).runs;
    assert.ok(dummy.length > 0 && dummy.every((r) => r.type === "rally"));
    const cloud = readWorkload(path.join(PROJECT_DIR, "workloads", "default")).runs;
    assert.ok(cloud.some((r) => r.type === "rally") && cloud.some((r) => r.type === "shaker"));
  });
});

describe("run.yml: errors name the key and the fix", () => {
  test("a missing task or plugin file", () => {
    assert.deepEqual(
      problemsOf(workloadDir("rally:\n  scenarios:\n    - {name: a, file: nope.yml, plugin: plug.py}\n")).map((p) =>
        p.replace(/\/tmp\S*/g, "DIR"),
      ),
      [
        "run.yml:rally.scenarios[0].file: DIR does not exist; relative paths are relative to the workload directory DIR",
        "run.yml:rally.scenarios[0].plugin: DIR does not exist; relative paths are relative to the workload directory DIR",
      ],
    );
  });

  test("an unknown key, with a guess", () => {
    assert.deepEqual(
      problemsOf(workloadDir("rally:\n  scenarios:\n    - {name: a, file: a.yml, arg: {x: 1}}\n", ["a.yml"])),
      ['run.yml:rally.scenarios[0].arg: unknown key; did you mean "args"?'],
    );
    assert.deepEqual(problemsOf(workloadDir("rallly:\n  scenarios: []\n")), [
      'run.yml:rallly: unknown key; did you mean "rally"?',
    ]);
    assert.deepEqual(
      problemsOf(workloadDir("shaker:\n  scenarios:\n    - {name: a, file: openstack/full_l2, args: {x: 1}}\n")),
      [
        "run.yml:shaker.scenarios[0].args: unknown key; a shaker scenario takes name, file (one of Shaker's scenario aliases) and enabled",
      ],
    );
  });

  test("an empty product names the key that is an empty list, where it was written", () => {
    assert.deepEqual(
      problemsOf(workloadDir("rally:\n  args: {times: []}\n  scenarios:\n    - {name: a, file: a.yml}\n", ["a.yml"])),
      [
        'run.yml:rally.args.times: an empty list: scenario "a" would run zero times; give at least one value or remove the key',
      ],
    );
    assert.deepEqual(
      problemsOf(
        workloadDir("rally:\n  args: {times: [1]}\n  scenarios:\n    - {name: a, file: a.yml, args: {times: []}}\n", [
          "a.yml",
        ]),
      ),
      [
        'run.yml:rally.scenarios[0].args.times: an empty list: scenario "a" would run zero times; give at least one value or remove the key',
      ],
    );
  });

  test("missing keys, no scenarios, no benchmark type, two runs writing to one directory", () => {
    assert.deepEqual(problemsOf(workloadDir("rally:\n  scenarios:\n    - {file: a.yml}\n")), [
      "run.yml:rally.scenarios[0].name: missing; expected string",
    ]);
    assert.deepEqual(problemsOf(workloadDir("rally:\n  scenarios: []\n")), [
      "run.yml:rally.scenarios: expected at least one scenario (found a list of 0)",
    ]);
    assert.deepEqual(problemsOf(workloadDir("# nothing yet\n")), [
      "run.yml: expected at least one benchmark type (rally, shaker), found an empty file",
    ]);
    assert.deepEqual(
      problemsOf(
        workloadDir("rally:\n  scenarios:\n    - {name: a, file: a.yml}\n    - {name: a, file: b.yml}\n", [
          "a.yml",
          "b.yml",
        ]),
      ),
      [
        "run.yml:rally.scenarios[1].name: its run with args default writes to rally/a/default, as rally.scenarios[0] does; give the scenarios different names",
      ],
    );
  });
});

describe("the sample workloads' Rally tasks", () => {
  /** Rally's own rendering and syntax validation of each run (no cloud needed): one verdict per run. */
  function rallyVerdicts(dir: string, runs: BenchRun[]): string[] {
    const input = runs.map((r) => ({
      task: path.join(dir, r.file),
      args: r.args,
      pluginPaths: r.plugin ? [path.join(dir, r.plugin)] : [],
    }));
    const check = spawnSync(
      path.join(PROJECT_DIR, ".venv", "bin", "python"),
      [path.join(FIXTURES, "rally-check", "validate_tasks.py")],
      { input: JSON.stringify(input), encoding: "utf8" },
    );
    assert.equal(check.status, 0, check.stderr);
    return check.stdout.trim().split("\n");
  }

  for (const name of ["default", "dummy"]) {
    test(`workloads/${name}: every run is a valid task for the installed Rally and rally-openstack`, () => {
      const { dir, runs } = readWorkload(path.join(PROJECT_DIR, "workloads", name));
      const rally = runs.filter((r) => r.type === "rally");
      assert.deepEqual(
        rallyVerdicts(dir, rally),
        rally.map((r) => `ok ${path.join(dir, r.file)}`),
      );
    });
  }

  test("the check catches a task Rally would refuse", () => {
    const { dir, runs } = readWorkload(path.join(PROJECT_DIR, "workloads", "dummy"));
    const [verdict] = rallyVerdicts(dir, [{ ...runs[0], args: { ...runs[0].args, times: "ten" } }]);
    assert.match(verdict, /^bad .*sleep.yml: .*'ten' is not of type 'integer'/);
  });
});

describe("enos bench --plan", () => {
  const enos = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(PROJECT_DIR, "dist", "cli", "enos.js"), ...args], { encoding: "utf8" });

  test("prints the runs a workload expands to, in execution order, each with where its client runs", () => {
    const plan = enos("bench", "--plan", "--workload", path.join(FIXTURES, "seed", "bench"));
    assert.equal(plan.status, 0, plan.stderr);
    const client = "on this machine, straight to the VIPs (the local testbed's networks are bridges on this machine)";
    assert.deepEqual(
      JSON.parse(plan.stdout),
      readWorkload(path.join(FIXTURES, "seed", "bench")).runs.map((run) => ({ ...run, client })),
    );
    assert.deepEqual(Object.keys(JSON.parse(plan.stdout)[0]), ["type", "name", "file", "args", "plugin", "client"]);
    // An OpenStack testbed behind its gateway (the default): through the SOCKS proxy.
    const planBehindGateway = (workload: string) =>
      enos("-f", path.join(FIXTURES, "seed", "openstack.yaml"), "bench", "--plan", "--workload", workload);
    const behind = planBehindGateway("workloads/dummy");
    assert.equal(behind.status, 0, behind.stderr);
    assert.match(
      JSON.parse(behind.stdout)[0].client,
      /^on this machine, through a SOCKS proxy ssh opens on the first control host \(the hosts are behind the gateway host's floating IP, gateway: true\)$/,
    );
    // Shaker's runs say where its agents connect back: a relay on that host.
    const shaker = planBehindGateway("workloads/default");
    assert.equal(shaker.status, 0, shaker.stderr);
    const runs: { type: string; agents?: string }[] = JSON.parse(shaker.stdout);
    assert.deepEqual(
      [...new Set(runs.map((run) => `${run.type}: ${run.agents ?? "-"}`))],
      [
        "rally: -",
        "shaker: a relay on the first control host (its address on its route to the cloud's API, port 5999), " +
          "forwarded to this machine by ssh -R",
      ],
    );
  });

  test("a wrong run.yml: the errors, exit code 1", () => {
    const dir = workloadDir("rally:\n  scenarios:\n    - {name: a, file: nope.yml}\n");
    const plan = enos("bench", "--plan", "--workload", dir);
    fs.rmSync(dir, { recursive: true });
    assert.equal(plan.status, 1);
    assert.match(plan.stderr, /run.yml:rally.scenarios\[0\].file: .*nope.yml does not exist/);
  });
});
