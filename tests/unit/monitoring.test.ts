import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DATABASES, MONITORING_DIR, callbackEnv, grafanaUrl, influxdbSource, monitoringVars, renderDeployScript, renderMonitoringInventory,
  renderRemoveScript,
} from "../../components/monitoring/render";
import type { Host } from "../../config/types";

const host = (alias: string, roles: string[], n: number): Host => ({
  alias, address: `10.249.0.${n}`, roles, groups: [], extra: {}, keyfile: "/state/op/id_ed25519",
  interfaces: { api: "eth0", external: "eth1" }, ips: [`10.249.0.${n}`], devices: ["eth0", "eth1"], kernel: { htb: true, netem: false },
});
const hosts = [host("control-1", ["control"], 10), host("compute-1", ["compute"], 11), host("compute-2", ["compute"], 12)];
const run = { hosts, sshConfig: "/state/op/ssh_config", venv: "/p/.venv" };

describe("monitoring rendering", () => {
  test("InfluxDB and Grafana on the control host by default; every host an agent; kolla's host lines", () => {
    assert.equal(renderMonitoringInventory(hosts), [
      "[monitoring]",
      "control-1 ansible_host=10.249.0.10 ansible_ssh_private_key_file=/state/op/id_ed25519",
      "",
      "[agents]",
      "control-1 ansible_host=10.249.0.10 ansible_ssh_private_key_file=/state/op/id_ed25519",
      "compute-1 ansible_host=10.249.0.11 ansible_ssh_private_key_file=/state/op/id_ed25519",
      "compute-2 ansible_host=10.249.0.12 ansible_ssh_private_key_file=/state/op/id_ed25519",
      "",
    ].join("\n"));
    assert.equal(grafanaUrl(hosts), "http://10.249.0.10:3000");
    assert.deepEqual(influxdbSource(hosts), { alias: "control-1", container: "enos-influxdb" });
  });

  test("a host with the monitoring role takes InfluxDB and Grafana", () => {
    const withMonitoring = [...hosts, host("monitoring-1", ["monitoring"], 13)];
    assert.match(renderMonitoringInventory(withMonitoring), /^\[monitoring\]\nmonitoring-1 ansible_host=10.249.0.13 /);
    assert.equal(monitoringVars(withMonitoring).influxdb_address, "10.249.0.13");
    assert.throws(() => renderMonitoringInventory([host("compute-1", ["compute"], 11)]), /monitoring needs a host with role monitoring or control/);
  });

  test("Enos' ports and databases", () => {
    const vars = monitoringVars(hosts);
    assert.deepEqual([vars.influxdb_port, vars.collectd_port, vars.grafana_port, vars.cadvisor_port], [8086, 25826, 3000, 8888]);
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
    assert.match(deploy, /export ENOS_INFLUXDB_URL='http:\/\/10.249.0.10:8086'/);
    assert.match(deploy, /export ANSIBLE_SSH_ARGS='-F \/state\/op\/ssh_config /);
    assert.match(deploy, new RegExp(`\nansible-playbook -i "\\$d/inventory" -e @"\\$d/vars.json" '${MONITORING_DIR}/monitoring.yml'\n`));
    const check = renderDeployScript(run, "check");
    assert.doesNotMatch(check, /ANSIBLE_CALLBACKS_ENABLED/);
    assert.deepEqual(check.split("\n").filter((l) => l.startsWith("ansible-playbook")).map((l) => l.split(" -i ")[0] + " " + path.basename(l.split(" ").at(-1)!)), [
      "ansible-playbook --syntax-check monitoring.yml'", "ansible-playbook --syntax-check monitoring-remove.yml'", "ansible-playbook --check monitoring.yml'",
    ]);
    assert.match(check, /cat > "\$d\/inventory" <<'INVENTORY'\n\[monitoring\]\ncontrol-1 /);
    assert.match(renderRemoveScript(run), /monitoring-remove.yml'\n$/);
  });

  test("the provisioned dashboard reads the provisioned datasources, and the events database for annotations", () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(MONITORING_DIR, "files", "enos-dashboard.json"), "utf8"));
    const datasources = fs.readFileSync(path.join(MONITORING_DIR, "templates", "grafana-datasources.yml.j2"), "utf8");
    assert.match(datasources, /uid: enos-\{\{ db \}\}/);
    const uids = new Set(DATABASES.map((db) => `enos-${db}`));
    for (const panel of dashboard.panels) assert.ok(uids.has(panel.datasource.uid), panel.title);
    assert.deepEqual(dashboard.annotations.list.map((a: { datasource: { uid: string } }) => a.datasource.uid), ["enos-events"]);
    assert.deepEqual(new Set(dashboard.panels.map((p: { datasource: { uid: string } }) => p.datasource.uid)), new Set(["enos-collectd", "enos-cadvisor"]));
  });
});
