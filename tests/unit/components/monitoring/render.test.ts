import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as yaml from "js-yaml";
import {
  callbackEnv,
  DATABASES,
  grafanaUrl,
  influxdbSource,
  MONITORING_DIR,
  monitoringVars,
  renderDeployScript,
  renderMonitoringInventory,
  renderRemoveScript,
} from "../../../../components/monitoring/render";
import type { Host } from "../../../../config/types";
import { testbedNetwork } from "../../../../config/vips";

const host = (alias: string, roles: string[], n: number): Host => ({
  alias,
  address: `10.249.0.${n}`,
  roles,
  groups: [],
  extra: {},
  keyfile: "/state/op/id_ed25519",
  interfaces: { api: "eth0", external: "eth1" },
  ips: [`10.249.0.${n}`],
  devices: ["eth0", "eth1"],
  kernel: { htb: true, netem: false },
});
const hosts = [
  host("control-1", ["control"], 10),
  host("compute-1", ["compute"], 11),
  host("compute-2", ["compute"], 12),
];
// Enos' order from the last: vip .254, registry_vip .253, influx_vip .252, grafana_vip .251, external_vip .250.
const { vips } = testbedNetwork(
  ["10.249.0.250", "10.249.0.251", "10.249.0.252", "10.249.0.253", "10.249.0.254"],
  { start: "10.250.0.100", end: "10.250.0.200", cidr: "10.250.0.0/24", gateway: "10.250.0.1", dns: "10.250.0.1" },
  ["eth0", "eth1"],
);
const run = { hosts, vips, sshConfig: "/state/op/ssh_config", venv: "/p/.venv" };

describe("monitoring rendering", () => {
  test("InfluxDB and Grafana on the control host by default; every host an agent; kolla's host lines", () => {
    assert.equal(
      renderMonitoringInventory(hosts),
      [
        "[monitoring]",
        "control-1 ansible_host=10.249.0.10 ansible_ssh_private_key_file=/state/op/id_ed25519",
        "",
        "[agents]",
        "control-1 ansible_host=10.249.0.10 ansible_ssh_private_key_file=/state/op/id_ed25519",
        "compute-1 ansible_host=10.249.0.11 ansible_ssh_private_key_file=/state/op/id_ed25519",
        "compute-2 ansible_host=10.249.0.12 ansible_ssh_private_key_file=/state/op/id_ed25519",
        "",
      ].join("\n"),
    );
    assert.equal(grafanaUrl(vips), "http://10.249.0.251:3000", "at Enos' grafana_vip");
    assert.deepEqual(influxdbSource(hosts), { alias: "control-1", container: "enos-influxdb" });
  });

  test("a host with the monitoring role takes InfluxDB and Grafana, at their VIPs on its API interface", () => {
    const withMonitoring = [
      ...hosts,
      { ...host("monitoring-1", ["monitoring"], 13), interfaces: { api: "ens4", external: "ens5" } },
    ];
    assert.match(renderMonitoringInventory(withMonitoring), /^\[monitoring\]\nmonitoring-1 ansible_host=10.249.0.13 /);
    const vars = monitoringVars(withMonitoring, vips);
    assert.deepEqual(
      [vars.influxdb_address, vars.grafana_address, vars.vip_interface],
      ["10.249.0.252", "10.249.0.251", "ens4"],
    );
    assert.match(
      renderMonitoringInventory([host("compute-1", ["compute"], 11)]),
      /^\[monitoring\]\ncompute-1 /,
      "all-in-one: the first host",
    );
  });

  test("Enos' ports and databases", () => {
    const vars = monitoringVars(hosts, vips);
    assert.deepEqual(
      [vars.influxdb_port, vars.collectd_port, vars.grafana_port, vars.cadvisor_port],
      [8086, 25826, 3000, 8888],
    );
    assert.deepEqual(vars.monitoring_databases, ["cadvisor", "collectd", "events"]);
  });

  test("the callback is enabled by three variables, pointing at the InfluxDB", () => {
    assert.deepEqual(callbackEnv("http://10.249.0.10:8086"), {
      ANSIBLE_CALLBACK_PLUGINS: path.join(MONITORING_DIR, "callback_plugins"),
      ANSIBLE_CALLBACKS_ENABLED: "influxdb_events",
      ENOS_INFLUXDB_URL: "http://10.249.0.10:8086",
    });
    assert.ok(fs.existsSync(path.join(MONITORING_DIR, "callback_plugins", "influxdb_events.py")));
  });

  test("deploy runs the playbook annotated by the callback; check mode checks syntax, then --check; remove runs the remove playbook", () => {
    const deploy = renderDeployScript(run, "deploy");
    assert.match(deploy, /export ENOS_INFLUXDB_URL='http:\/\/10.249.0.252:8086'/);
    assert.match(deploy, /export ANSIBLE_SSH_ARGS='-F \/state\/op\/ssh_config /);
    assert.match(
      deploy,
      new RegExp(`\nansible-playbook -i "\\$d/inventory" -e @"\\$d/vars.json" '${MONITORING_DIR}/monitoring.yml'\n`),
    );
    const check = renderDeployScript(run, "check");
    assert.doesNotMatch(check, /ANSIBLE_CALLBACKS_ENABLED/);
    const runs = check.split("\n").filter((l) => l.startsWith("ansible-playbook"));
    assert.deepEqual(
      runs.map((l) => /^ansible-playbook (\S*) ?-i .*\/(\S+)'$/.exec(l)!.slice(1)),
      [
        ["--syntax-check", "monitoring.yml"],
        ["--syntax-check", "monitoring-remove.yml"],
        ["--check", "monitoring.yml"],
      ],
    );
    assert.match(check, /cat > "\$d\/inventory" <<'INVENTORY'\n\[monitoring\]\ncontrol-1 /);
    assert.match(renderRemoveScript(run), /monitoring-remove.yml'\n$/);
  });

  test("the provisioned dashboard reads the provisioned datasources, and the events database for annotations", () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(MONITORING_DIR, "files", "enos-dashboard.json"), "utf8"));
    const datasources = fs.readFileSync(path.join(MONITORING_DIR, "templates", "grafana-datasources.yml.j2"), "utf8");
    assert.match(datasources, /uid: enos-\{\{ db \}\}/);
    const uids = new Set(DATABASES.map((db) => `enos-${db}`));
    for (const panel of dashboard.panels) assert.ok(uids.has(panel.datasource.uid), panel.title);
    assert.deepEqual(
      dashboard.annotations.list.map((a: { datasource: { uid: string } }) => a.datasource.uid),
      ["enos-events"],
    );
    assert.deepEqual(
      new Set(dashboard.panels.map((p: { datasource: { uid: string } }) => p.datasource.uid)),
      new Set(["enos-collectd", "enos-cadvisor"]),
    );
  });

  test("every container command of the playbook parses with the real docker CLI", (t) => {
    if (spawnSync("docker", ["--version"]).status !== 0) return t.skip("no docker CLI on this machine");
    const vars = monitoringVars(hosts, vips);
    const plays = yaml.load(fs.readFileSync(path.join(MONITORING_DIR, "monitoring.yml"), "utf8")) as {
      tasks: Record<string, unknown>[];
    }[];
    const tasks = plays.flatMap((p) =>
      p.tasks.flatMap((task) => [task, ...((task.block as Record<string, unknown>[] | undefined) ?? [])]),
    );
    const commands = tasks
      .map((task) => task["ansible.builtin.shell"])
      .filter((c): c is string => typeof c === "string" && c.includes("docker run"))
      .map((c) =>
        c.slice(c.indexOf("docker run")).replace(/\{\{ (\w+) \}\}/g, (_, name: string) => String(vars[name])),
      );
    assert.equal(commands.length, 3, "InfluxDB, Grafana and cAdvisor");
    for (const command of commands) {
      // No engine at this socket: a command whose flags parse stops at the connection (or, with --device,
      // at asking the engine its OS); an unknown flag or bad volume stops before.
      const result = spawnSync("bash", ["-c", command], {
        encoding: "utf8",
        env: { ...process.env, DOCKER_HOST: "unix:///nonexistent/enos-docker.sock" },
      });
      assert.match(
        result.stderr,
        /^docker: (Cannot connect to the Docker daemon|unknown server OS)/,
        `${command}\n${result.stderr}`,
      );
      assert.doesNotMatch(command, /\{\{/, "every variable is known");
    }
  });
});
