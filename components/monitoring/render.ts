import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import { shellQuote } from "../../config/shell";
import type { Host } from "../../config/types";
import type { Vips } from "../../config/vips";
import { ansibleOverSsh } from "../../kolla/commands";
import { groupHosts, hostLine } from "../../kolla/inventory";

/** The playbooks, templates and callback plugin beside this file, in the source tree. */
export const MONITORING_DIR = path.join(PROJECT_DIR, "components", "monitoring");
const CALLBACK_NAME = "influxdb_events";

/** Enos' ports and databases, which its users' dashboards expect. */
const PORTS = { influxdb: 8086, collectd: 25826, grafana: 3000, cadvisor: 8888 };
export const DATABASES = ["cadvisor", "collectd", "events"];
/** Current releases: InfluxDB stays on 1.x, the line with a collectd input and the InfluxQL Enos' dashboards use. */
const IMAGES = {
  influxdb: "influxdb:1.12.4",
  grafana: "grafana/grafana:12.2.1",
  cadvisor: "ghcr.io/google/cadvisor:v0.60.5",
};
const CONTAINERS = { influxdb: "enos-influxdb", grafana: "enos-grafana", cadvisor: "enos-cadvisor" };

/**
 * InfluxDB and Grafana go on one host: the first of the monitoring group (the control host unless a
 * host has the monitoring role), each at its VIP (Enos' influx_vip, grafana_vip) held by that host.
 */
/**
 * InfluxDB and Grafana go on the monitoring host, else a control host, else (an all-in-one testbed,
 * whose inventory makes every group a child of compute, as Enos' did) the first host.
 */
function monitoringHost(hosts: Host[]): Host {
  const host = groupHosts("monitoring", hosts)[0] ?? hosts[0];
  if (!host) throw new Error("monitoring needs a host, and the testbed has none");
  return host;
}

/** Where the InfluxDB runs: the backup snapshots it there. */
export const influxdbSource = (hosts: Host[]) => ({
  alias: monitoringHost(hosts).alias,
  container: CONTAINERS.influxdb,
});
export const influxdbUrl = (vips: Vips) => `http://${vips.influxdb.address}:${PORTS.influxdb}`;
export const grafanaUrl = (vips: Vips) => `http://${vips.grafana.address}:${PORTS.grafana}`;

/** The playbooks' inventory: group monitoring (one host) and group agents (every host), with kolla's host lines. */
export function renderMonitoringInventory(hosts: Host[]): string {
  const line = (h: Host) => hostLine(h, h.interfaces);
  return `[monitoring]\n${line(monitoringHost(hosts))}\n\n[agents]\n${hosts.map(line).join("\n")}\n`;
}

/** The playbooks' variables (-e @vars.json). */
export function monitoringVars(hosts: Host[], vips: Vips): Record<string, unknown> {
  return {
    influxdb_address: vips.influxdb.address,
    grafana_address: vips.grafana.address,
    // Where the monitoring host takes the two VIPs, as the registry's host takes its own.
    vip_interface: monitoringHost(hosts).interfaces.api,
    influxdb_port: PORTS.influxdb,
    collectd_port: PORTS.collectd,
    grafana_port: PORTS.grafana,
    cadvisor_port: PORTS.cadvisor,
    monitoring_databases: DATABASES,
    influxdb_image: IMAGES.influxdb,
    grafana_image: IMAGES.grafana,
    cadvisor_image: IMAGES.cadvisor,
    influxdb_container: CONTAINERS.influxdb,
    grafana_container: CONTAINERS.grafana,
    cadvisor_container: CONTAINERS.cadvisor,
    monitoring_data_dir: "/var/lib/enos-monitoring",
    monitoring_conf_dir: "/etc/enos-monitoring",
  };
}

/** What enables the annotations callback in any Ansible run (kolla-ansible's included). */
export function callbackEnv(influxdb: string): Record<string, string> {
  return {
    ANSIBLE_CALLBACK_PLUGINS: path.join(MONITORING_DIR, "callback_plugins"),
    ANSIBLE_CALLBACKS_ENABLED: CALLBACK_NAME,
    ENOS_INFLUXDB_URL: influxdb,
  };
}

export type MonitoringMode = "deploy" | "check";

export interface PlaybookRun {
  hosts: Host[];
  /** The testbed's VIPs: InfluxDB and Grafana serve at theirs. */
  vips: Vips;
  /** The experiment's ssh_config: Ansible reaches every host through it. */
  sshConfig: string;
  /** The Python venv holding ansible-playbook. */
  venv: string;
}

/** ansible-playbook on one of the playbooks, with the inventory and variables `script` writes. */
const playbook = (options: string, name: string) =>
  `ansible-playbook ${options}-i "$d/inventory" -e @"$d/vars.json" ${shellQuote(path.join(MONITORING_DIR, name))}`;

/** A script writing the inventory and variables to a temporary directory, then running `commands` on them. */
function script(run: PlaybookRun, env: Record<string, string>, commands: string[]): string {
  return [
    "set -euo pipefail",
    ...ansibleOverSsh(run.venv, run.sshConfig),
    ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    "d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT",
    `cat > "$d/inventory" <<'INVENTORY'\n${renderMonitoringInventory(run.hosts)}INVENTORY`,
    `cat > "$d/vars.json" <<'VARS'\n${JSON.stringify(monitoringVars(run.hosts, run.vips), null, 2)}\nVARS`,
    ...commands,
    "",
  ].join("\n");
}

/**
 * Deploy mode runs the playbook for real, annotated by the callback (its first events wait until
 * InfluxDB is up). Check mode (no Docker engine) checks both playbooks' syntax, then runs the
 * deploy playbook with --check against the hosts: facts, packages, files and templates for real,
 * containers skipped.
 */
export function renderDeployScript(run: PlaybookRun, mode: MonitoringMode): string {
  return mode === "deploy"
    ? script(run, callbackEnv(influxdbUrl(run.vips)), [playbook("", "monitoring.yml")])
    : script(run, {}, [
        playbook("--syntax-check ", "monitoring.yml"),
        playbook("--syntax-check ", "monitoring-remove.yml"),
        playbook("--check ", "monitoring.yml"),
      ]);
}

export function renderRemoveScript(run: PlaybookRun): string {
  return script(run, {}, [playbook("", "monitoring-remove.yml")]);
}
