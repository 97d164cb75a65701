import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { routeFor } from "../../../components/bench/client";
import type { BenchmarkArgs } from "../../../components/benchmark";
import { ConfigError } from "../../../config/errors";
import { loadExperiment } from "../../../config/load";
import { PROJECT_DIR } from "../../../config/paths";
import type { Host } from "../../../config/types";
import { testbedNetwork } from "../../../config/vips";
import { readWorkload } from "../../../workloads/run-file";
import { FIXTURES } from "../../support/helpers";
import { waitForRPCs } from "../../support/pulumi-mocks";

/** Commands the phases register: name -> inputs; and every resource's type. */
const commands = new Map<string, Record<string, unknown>>();
const types: string[] = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      types.push(args.type);
      if (args.type.endsWith(":Command")) commands.set(args.name, args.inputs);
      return {
        id: `${args.name}-id`,
        state: { ...args.inputs, stdout: args.name === "bench-rally-env" ? "env-uuid" : "" },
      };
    },
    call: () => ({}),
  },
  "enos",
  "bench-graph",
  false,
);

const conditions = { configuration: "c0ffee", openstack: null };
const cloudWorkload = readWorkload(path.join(PROJECT_DIR, "workloads", "default"));
const network = testbedNetwork(
  [],
  { cidr: "10.248.0.0/24", start: "10.248.0.100", end: "10.248.0.200", gateway: "10.248.0.1", dns: "10.248.0.1" },
  ["eth0", "eth1"],
);

async function registered(create: () => void): Promise<Map<string, Record<string, unknown>>> {
  commands.clear();
  create();
  await waitForRPCs();
  return new Map(commands);
}

/** The commands of the default workload's benchmarks against a cloud (an admin-openrc). */
async function cloudBenchmark(args: Partial<BenchmarkArgs> = {}) {
  const { Benchmark } = await import("../../../components/benchmark");
  return registered(
    () =>
      new Benchmark("bench", {
        workload: cloudWorkload,
        resultsDir: "/r/s",
        openrc: "/k/admin-openrc",
        conditions,
        ...args,
      }),
  );
}

describe("benchmark and init resource graphs (pulumi mocks)", () => {
  test("without OpenStack: Rally in an empty environment, one command per run, Shaker skipped", async () => {
    const { Benchmark } = await import("../../../components/benchmark");
    const made = await registered(
      () => new Benchmark("bench", { workload: cloudWorkload, resultsDir: "/r/s", conditions }),
    );
    const rallyRuns = cloudWorkload.runs.filter((r) => r.type === "rally");
    assert.deepEqual([...made.keys()].filter((n) => n.startsWith("bench-run:")).length, rallyRuns.length);
    assert.ok(made.has("bench-rally-env") && made.has("bench-rally-summary"));
    assert.doesNotMatch(String(made.get("bench-rally-env")!.create), /from-sysenv|source/);
    assert.equal(
      [...made.keys()].some((n) => n.startsWith("bench-run:shaker")),
      false,
    );
    const first = made.get("bench-run:rally/boot-and-list-servers/concurrency-1_times-20_sla_max_avg_duration-30")!;
    assert.match(
      String(first.create),
      /"args": \{\n\s+"concurrency": 1,\n\s+"times": 20,\n\s+"sla_max_avg_duration": 30\n\s+\}/,
    );
  });

  test("with an admin-openrc: Rally's environment from it, and each Shaker alias run against the cloud", async () => {
    const made = await cloudBenchmark();
    assert.match(
      String(made.get("bench-rally-env")!.create),
      /source '\/k\/admin-openrc'.*\n.* env '\/r\/s\/rally\/rally.conf' enos --from-sysenv/,
    );
    const shaker = String(made.get("bench-run:shaker/l2-throughput/default")!.create);
    assert.match(
      shaker,
      /shaker' --server-endpoint "\$endpoint" --scenario 'openstack\/perf_l2' --external-net public --output "\$out\/results.json" --report "\$out\/report.html"/,
    );
    assert.ok(made.has("bench-run:shaker/l3-east-west-throughput/default"));
  });

  test("what the runs run under goes to conditions.json, which each run reads when it starts", async () => {
    const made = await cloudBenchmark({
      networkPlan: "5eed",
      conditions: {
        configuration: "c0ffee",
        openstack: { source: "kolla-ansible", globals: "/k/globals.yml" },
        tcReportDir: "/r/s/tc",
      },
    });
    const file = made.get("bench-conditions")!;
    assert.match(String(file.create), /mv '\/r\/s\/conditions.json.tmp' '\/r\/s\/conditions.json'/);
    assert.deepEqual(JSON.parse(String(file.stdin)), {
      configuration: "c0ffee",
      openstack: { source: "kolla-ansible", globals: "/k/globals.yml" },
      network: { plan: "5eed", reportDir: "/r/s/tc" },
    });
    for (const [name, inputs] of made) {
      if (!name.startsWith("bench-run:")) continue;
      const script = String(inputs.create);
      assert.match(script, /"conditions":"\/r\/s\/conditions.json"/, name);
      assert.doesNotMatch(
        script,
        /c0ffee|rm -rf/,
        `${name}: reads the conditions when it runs, deletes no earlier run`,
      );
    }
  });

  test("a run id changes every run's triggers; nothing else does", async () => {
    const { runFingerprint } = await import("../../../components/benchmark");
    const run = cloudWorkload.runs[0];
    assert.equal(runFingerprint(run, cloudWorkload.dir), runFingerprint(run, cloudWorkload.dir));
    assert.notEqual(runFingerprint(run, cloudWorkload.dir, "2"), runFingerprint(run, cloudWorkload.dir));
    assert.notEqual(
      runFingerprint({ ...run, args: { ...run.args, times: 21 } }, cloudWorkload.dir),
      runFingerprint(run, cloudWorkload.dir),
    );
  });

  test("init: skipped without OpenStack; otherwise one command running init.py with the venv's python, the openrc and the testbed's pool", async () => {
    const { OpenStackInit } = await import("../../../components/openstack-init");
    assert.equal((await registered(() => new OpenStackInit("init", { network }))).size, 0);
    const made = await registered(
      () => new OpenStackInit("init", { network, openrc: "/k/admin-openrc", image: "/images/cirros.img" }),
    );
    const create = String(made.get("init")!.create);
    const python = path.join(PROJECT_DIR, ".venv", "bin", "python");
    const initPy = path.join(PROJECT_DIR, "components", "init", "init.py");
    const [, request] = new RegExp(
      `^set -a; source '/k/admin-openrc'; set \\+a\nexec '${python}' '${initPy}' '(\\{.*\\})'$`,
      "m",
    ).exec(create)!;
    assert.deepEqual(JSON.parse(request), {
      image: "/images/cirros.img",
      external: network.external,
      bootTimeout: 300,
      pollInterval: 5,
    });
    assert.equal(made.get("init")!.update, create, "a changed input re-runs the (idempotent) command in place");
  });

  /** Constructs the experiment, which must throw `expected` before registering any resource. */
  async function refusedBeforeAnyResource(config: ReturnType<typeof loadExperiment>, expected: RegExp) {
    const { Experiment } = await import("../../../components/experiment");
    types.length = 0;
    assert.throws(
      () =>
        new Experiment("experiment", {
          config,
          stack: "graph",
          stateDir: "/tmp/enos-graph",
          resultsDir: "/tmp/enos-graph/results",
        }),
      (error: Error) => error instanceof ConfigError && expected.test(error.message),
    );
    await waitForRPCs();
    assert.deepEqual(
      types.filter((t) => !t.endsWith(":Experiment")),
      [],
      "no resource but the (empty) experiment component",
    );
  }

  test("a wrong run.yml stops the program before any resource is registered", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-bad-workload-"));
    fs.writeFileSync(path.join(dir, "run.yml"), "rally:\n  scenarios:\n    - {name: a, file: missing.yml}\n");
    const config = loadExperiment({
      stack: { provider: "local", resources: { control: 1, network: 1, compute: 1 }, workload: dir },
      baseDir: PROJECT_DIR,
    });
    try {
      await refusedBeforeAnyResource(config, /run.yml:rally.scenarios\[0\].file: .*missing.yml does not exist/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  test("Shaker on a testbed whose VIPs are reached through the SOCKS proxy: every run through the proxy and the relay", async () => {
    const seed = path.join(FIXTURES, "seed");
    const { provider } = loadExperiment({
      stack: { reservationFile: path.join(seed, "openstack.yaml") },
      baseDir: seed,
    });
    const route = routeFor(provider, [{ alias: "control-1", roles: ["control"] } as Host]);
    const made = await cloudBenchmark({ client: { route, sshConfig: "/st/ssh_config" } });
    const shakerRuns = [...made].filter(([name]) => name.startsWith("bench-run:shaker/"));
    assert.equal(shakerRuns.length, 2);
    for (const [name, inputs] of shakerRuns) {
      const script = String(inputs.create);
      assert.match(script, /ssh '-F' '\/st\/ssh_config' '-n' '-N' '-D' "127\.0\.0\.1:\$port" .* 'control-1'/, name);
      assert.match(script, /ssh '-F' '\/st\/ssh_config' .* -R 127\.0\.0\.1:5999:127\.0\.0\.1:5999 'control-1'/, name);
    }
  });
});
