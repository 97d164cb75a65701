import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import * as yaml from "js-yaml";
import { renderCheck } from "../../../cli/check";
import { ConfigError } from "../../../config/errors";
import { type ExperimentConfig, loadExperiment } from "../../../config/load";
import { renderNormalizedYaml } from "../../../config/normalized";
import { PROJECT_DIR } from "../../../config/paths";
import { planSlots, slotHost } from "../../../config/slots";
import type { Host } from "../../../config/types";
import { allocateVips, vipShortage } from "../../../config/vips";
import { groupMembers } from "../../../kolla/inventory";
import { inventoryProblems, inventoryTemplate, renderKollaFiles, staticHostsOf } from "../../../kolla/render";
import { readWorkload } from "../../../workloads/run-file";
import { FIXTURES } from "../../support/helpers";

/**
 * The compatibility corpus: files Enos 3.0 ran (its samples, documentation and jenkins jobs), each
 * with what it must give here (<name>.expected.json): the normalized configuration `enos check
 * --json` prints (defaults listed), Kolla's VIPs where the file decides them, and the hosts of the
 * inventory's role and service groups.
 */
const CORPUS = path.join(FIXTURES, "enos3");
const files = fs
  .readdirSync(CORPUS)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
/** Role groups, and service groups on each of them (HAProxy holds the VIP on network hosts). */
const GROUPS = [
  "control",
  "network",
  "compute",
  "storage",
  "monitoring",
  "loadbalancer",
  "mariadb",
  "neutron-l3-agent",
  "grafana",
];

const load = (file: string) => loadExperiment({ stack: { reservationFile: path.join(CORPUS, file) }, baseDir: CORPUS });

/** The testbed's hosts: a static file's own, or one per slot of a counted testbed (named as it will name them). */
function hostsOf(config: ExperimentConfig): Host[] {
  if (config.provider.type === "static") return staticHostsOf(config).hosts;
  return planSlots(config.demands).map(
    (slot): Host => ({
      ...slotHost(slot),
      address: slot.alias,
      extra: {},
      interfaces: { api: "eth0", external: "eth1" },
      ips: [],
      devices: [],
      kernel: { htb: true, netem: true },
    }),
  );
}

/** What the corpus records for a file; paths relative to the corpus, so that it holds in any clone. */
function observed(file: string) {
  const config = load(file);
  const hosts = hostsOf(config);
  const members = groupMembers(inventoryTemplate(config), hosts);
  return {
    check: JSON.parse(renderCheck(config, true).replaceAll(`${CORPUS}/`, "")),
    groups: Object.fromEntries(GROUPS.map((g) => [g, members(g)])),
    inventoryProblems: inventoryProblems(inventoryTemplate(config), hosts) ?? null,
  };
}

describe("Enos 3.0 compatibility corpus (tests/fixtures/enos3)", () => {
  test("one file per provider, the all-in-one inventory, a static provider without extra_ips, anchors", () => {
    const types = new Set(files.map((f) => load(f).provider.type));
    assert.deepEqual([...types].sort(), [
      "chameleonbaremetal",
      "chameleonkvm",
      "g5k",
      "openstack",
      "static",
      "vagrant",
    ]);
    assert.ok(
      files.includes("static-allinone.yaml") &&
        files.includes("static-sample.yaml") &&
        files.includes("static-anchors.yaml"),
    );
  });

  for (const file of files) {
    test(`${file}: the normalized configuration, VIPs and inventory groups Enos would have produced`, () => {
      const expected = JSON.parse(
        fs.readFileSync(path.join(CORPUS, file.replace(/\.yaml$/, ".expected.json")), "utf8"),
      );
      assert.deepEqual(observed(file), expected);
    });
  }

  test("the real ansible-inventory reads the same groups from each rendered static inventory", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-compat-inventory-"));
    try {
      for (const file of files.filter((f) => load(f).provider.type === "static")) {
        const config = load(file);
        const { hosts, network } = staticHostsOf(config);
        fs.writeFileSync(path.join(dir, "multinode"), renderKollaFiles(config, hosts, network, {}).multinode);
        const listed = spawnSync(
          path.join(PROJECT_DIR, ".venv", "bin", "ansible-inventory"),
          ["-i", path.join(dir, "multinode"), "--list"],
          { encoding: "utf8" },
        );
        assert.equal(listed.status, 0, listed.stderr);
        const inventory = JSON.parse(listed.stdout) as Record<string, { hosts?: string[]; children?: string[] }>;
        const members = (group: string): string[] => [
          ...(inventory[group]?.hosts ?? []),
          ...(inventory[group]?.children ?? []).flatMap(members),
        ];
        const expected = JSON.parse(
          fs.readFileSync(path.join(CORPUS, file.replace(/\.yaml$/, ".expected.json")), "utf8"),
        );
        for (const group of GROUPS)
          assert.deepEqual(new Set(members(group)), new Set(expected.groups[group]), `${file}: ${group}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the YAML view reads back as the normalized configuration, each default marked", () => {
    for (const file of files) {
      const { normalized } = load(file);
      const text = renderNormalizedYaml(normalized);
      assert.deepEqual(yaml.load(text), normalized.value, file);
      assert.equal(text.match(/ {2}# default$/gm)?.length, normalized.defaults.length, file);
    }
  });
});

describe("Kolla's VIPs, as Enos' pop_ip took them", () => {
  test("the last extra IP first, then the end of start..end, whose end moves below each address taken", () => {
    const { vips, end } = allocateVips({ extraIps: ["10.0.0.1", "10.0.0.2"], start: "10.1.0.10", end: "10.1.0.20" });
    assert.deepEqual(Object.values(vips), [
      { address: "10.0.0.2", from: "extra_ips[1]" },
      { address: "10.0.0.1", from: "extra_ips[0]" },
      { address: "10.1.0.20", from: "end of start..end" },
      { address: "10.1.0.19", from: "end of start..end" },
      { address: "10.1.0.18", from: "end of start..end" },
    ]);
    assert.equal(end, "10.1.0.17");
  });

  test("refused only when addresses run out: the range keeps one address, as pop_ip did", () => {
    assert.equal(
      vipShortage({ extraIps: [], start: "10.1.0.10", end: "10.1.0.15" }),
      undefined,
      "six addresses: five VIPs and one left",
    );
    assert.match(
      vipShortage({ extraIps: [], start: "10.1.0.10", end: "10.1.0.14" }) ?? "",
      /needs 5 addresses .* has 4: 0 in extra_ips, and 4 of the 5 in 10\.1\.0\.10\.\.10\.1\.0\.14/,
    );
    assert.throws(
      () => allocateVips({ extraIps: ["10.0.0.1"], start: "10.1.0.10", end: "10.1.0.10" }),
      /has 1: 1 in extra_ips, and 0 of the 1/,
    );
  });
});

describe("Enos' all-in-one inventory: role groups named only as children", () => {
  const config = load("static-allinone.yaml");
  const { hosts, network } = staticHostsOf(config);

  test("the testbed's roles the template has no section for are written before it, as Enos' generate_inventory did", () => {
    const files = renderKollaFiles(config, hosts, network, {});
    assert.match(
      files.multinode,
      /^# Written by enos, as Enos did: .*\n\[compute\]\nallinone ansible_host=10\.158\.0\.2 ansible_user=root\n/,
    );
    // Enos also wrote the mandatory groups the testbed lacks, empty, so that a template may name them.
    assert.match(files.multinode, /\n\[control\]\n\n\[network\]\n\n\[storage\]\n\n# Enos' all-in-one inventory/);
    assert.equal((yaml.load(files.globals) as Record<string, unknown>).kolla_internal_vip_address, "10.158.3.254");
  });

  test("its service groups are those of enos' default inventory (so they follow the pinned kolla-ansible)", () => {
    const services = (text: string) => text.slice(text.indexOf("[deployment]"));
    assert.equal(services(inventoryTemplate(config)), services(inventoryTemplate({})));
  });

  test("a group the services need still needs a host: without compute, all-in-one names it", () => {
    const problem = inventoryProblems(
      inventoryTemplate(config),
      hosts.map((h) => ({ ...h, roles: ["storage"] })),
    );
    assert.match(
      problem ?? "",
      /group compute \(needed by .*control.*\) has no host: add role compute to resources or topology/,
    );
  });
});

describe("the enos CLI on the corpus", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(PROJECT_DIR, "dist", "cli", "enos.js"), ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });

  test("enos check passes and prints the user's keys, defaults marked, VIPs with their source", () => {
    // Every file through the check's renderer (the corpus test has its JSON); one through the CLI itself.
    for (const file of files) {
      const text = renderCheck(load(file), false);
      assert.match(text, /^provider:\n {2}type: /, file);
      assert.match(text, /^kolla_mode: deploy {2}# default$/m, file);
    }
    const run = cli("check", "-f", path.join(CORPUS, "static-sample.yaml"));
    assert.equal(run.status, 0, run.stderr);
    const sample = run.stdout;
    assert.match(sample, /^ {4}extra_ips: \[\] {2}# default$/m);
    assert.match(sample, /^# vip: 192\.168\.142\.119 {2}\(end of start\.\.end\)\n# registry_vip: 192\.168\.142\.118 /m);
    assert.match(sample, /^# external pool after them: 192\.168\.142\.3\.\.192\.168\.142\.114$/m);
    const json = JSON.parse(cli("check", "--json", "-f", path.join(CORPUS, "static-sample.yaml")).stdout);
    assert.deepEqual(json.vips.influx_vip, { address: "192.168.142.117", from: "end of start..end" });
  });

  test("enos os --render writes what kolla-ansible would get for every static file", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "enos-compat-render-"));
    try {
      for (const file of files.filter((f) => load(f).provider.type === "static")) {
        const run = cli("os", "--render", "-f", path.join(CORPUS, file), "--out", out);
        assert.equal(run.status, 0, `${file}: ${run.stderr}`);
        const expected = JSON.parse(
          fs.readFileSync(path.join(CORPUS, file.replace(/\.yaml$/, ".expected.json")), "utf8"),
        );
        const globals = yaml.load(fs.readFileSync(path.join(out, "globals.yml"), "utf8")) as Record<string, unknown>;
        assert.equal(globals.kolla_internal_vip_address, expected.check.vips.vip.address, file);
        const registry =
          load(file).registry.type === "internal" ? `${expected.check.vips.registry_vip.address}:4000` : undefined;
        assert.equal(globals.docker_registry, registry, file);
        const multinode = fs.readFileSync(path.join(out, "multinode"), "utf8");
        for (const alias of expected.groups.compute)
          assert.match(multinode, new RegExp(`^${alias.replace(/\./g, "\\.")} ansible_host=`, "m"), file);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("YAML 1.1 booleans where a string is expected (name: off)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-compat-yaml11-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const problemsOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    return assert.fail("accepted");
  };

  test("every string key read as a boolean says so and how to keep the word, as PyYAML read it", () => {
    const file = write(
      "reservation.yaml",
      [
        "provider: {type: g5k, name: off, env_name: yes}",
        "resources: {paravance: {control: 1, network: 1, compute: 1}}",
        "bench_run_id: no",
        "patches: [{name: On, src: a, dst: b}]",
      ].join("\n"),
    );
    const problems = problemsOf(() => loadExperiment({ stack: { reservationFile: file }, baseDir: dir }));
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      "bench_run_id",
      "patches[0].name",
      "provider.env_name",
      "provider.name",
    ]);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    assert.match(
      byPath["provider.name"],
      /found the boolean false: YAML 1\.1 \(as Enos' PyYAML\) reads an unquoted no, off or false as false; quote it to keep the word, e\.g\. name: "off"/,
    );
    assert.match(byPath["provider.env_name"], /found the boolean true: .* yes, on or true as true; .* env_name: "on"/);
    assert.match(byPath.bench_run_id, /boolean false: .*bench_run_id: "off"/);
  });

  test("a scenario named off in run.yml too", () => {
    const workload = path.join(dir, "workload");
    fs.mkdirSync(workload, { recursive: true });
    write("workload/run.yml", "rally:\n  scenarios:\n    - name: off\n      file: boot.yml\n");
    const [problem] = problemsOf(() => readWorkload(workload));
    assert.match(
      `${problem.path}: ${problem.message}`,
      /rally\.scenarios\[0\]\.name: expected a string, found the boolean false: .*name: "off"/,
    );
  });

  test("a role named by an unquoted off keeps the meaning PyYAML gave it, with a warning", () => {
    const file = write(
      "roles.yaml",
      "provider: g5k\nresources:\n  paravance: {control: 1, network: 1, compute: 1, off: 1}\n",
    );
    const config = loadExperiment({ stack: { reservationFile: file }, baseDir: dir });
    assert.ok(config.demands.some((d) => d.role === "false"));
    assert.ok(
      config.warnings.some((w) => /a role or group is named false: .*quote it \(e\.g\. "off": \.\.\.\)/.test(w)),
      config.warnings.join("\n"),
    );
  });
});
