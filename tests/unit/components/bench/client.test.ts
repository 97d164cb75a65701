import * as assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";
import {
  clientRoute,
  describeAgentRoute,
  describeRoute,
  renderClientRoute,
  routeFor,
  SHAKER_PORT,
} from "../../../../components/bench/client";
import { renderRallyRunScript, renderShakerRunScript } from "../../../../components/bench/render";
import { loadExperiment } from "../../../../config/load";
import { PROJECT_DIR } from "../../../../config/paths";
import type { Host } from "../../../../config/types";
import { readWorkload } from "../../../../workloads/run-file";
import { FIXTURES } from "../../../support/helpers";

/** A testbed's provider as a reservation file of the corpus gives it. */
const providerOf = (file: string) =>
  loadExperiment({
    stack: { reservationFile: path.join(FIXTURES, file) },
    baseDir: path.dirname(path.join(FIXTURES, file)),
  }).provider;
const host = (alias: string, roles: string[]) => ({ alias, roles }) as Host;

describe("where the benchmark clients reach the VIPs from, by testbed", () => {
  test("direct on testbeds whose networks this machine is on; a SOCKS proxy behind a gateway or in a KaVLAN", () => {
    const local = loadExperiment({
      stack: { provider: "local", resources: { control: 1, network: 1, compute: 1 } },
      baseDir: PROJECT_DIR,
    }).provider;
    const cases = [
      [local, "direct"],
      [providerOf("enos3/vagrant.yaml"), "direct"],
      [providerOf("enos3/static-sample.yaml"), "direct"],
      [providerOf("seed/g5k.yaml"), "socks"],
      // gateway: true, the default.
      [providerOf("seed/openstack.yaml"), "socks"],
      [{ ...providerOf("seed/openstack.yaml"), gateway: false }, "direct"],
      [providerOf("seed/chameleonkvm.yaml"), "socks"],
      [providerOf("seed/chameleonbaremetal.yaml"), "socks"],
    ] as const;
    assert.deepEqual(
      cases.map(([provider]) => [provider.type, clientRoute(provider).through]),
      cases.map(([provider, through]) => [provider.type, through]),
    );
  });

  test("the proxy goes through the first control host; a dry run says where and why", () => {
    const g5k = providerOf("seed/g5k.yaml");
    const hosts = [host("compute-1", ["compute"]), host("control-1", ["control"]), host("control-2", ["control"])];
    const route = routeFor(g5k, hosts);
    assert.deepEqual(route, { ...clientRoute(g5k), host: "control-1" });
    assert.equal(
      describeRoute(route),
      "on this machine, through a SOCKS proxy ssh opens on control-1 " +
        "(the VIPs are in the job's KaVLAN, which need not be routed to this machine)",
    );
    assert.match(describeRoute(clientRoute(g5k)), /SOCKS proxy ssh opens on the first control host/);
    const vagrant = providerOf("enos3/vagrant.yaml");
    assert.deepEqual(routeFor(vagrant, hosts), clientRoute(vagrant));
  });

  test("a Rally run through the proxy: ssh -D with the stack's ssh_config, the clients' proxy, then Rally", () => {
    const workload = readWorkload(path.join(PROJECT_DIR, "workloads", "dummy"));
    const paths = {
      bin: "/v/bin",
      shakerBin: "/s/bin",
      workloadDir: workload.dir,
      resultsDir: "/r",
      conditions: "/r/c",
    };
    const id = { runId: null, fingerprint: "f".repeat(64) };
    const route = routeFor(providerOf("seed/openstack.yaml"), [host("control-1", ["control"])]);
    const script = renderRallyRunScript(workload.runs[0], id, {
      ...paths,
      client: { route, sshConfig: "/st/ssh_config" },
    });
    const lines = script.split("\n");
    const ssh = lines.findIndex((l) => l.startsWith("ssh "));
    assert.equal(
      lines[ssh],
      `ssh '-F' '/st/ssh_config' '-n' '-N' '-D' "127.0.0.1:$port" '-o' 'ExitOnForwardFailure=yes' ` +
        `'-o' 'BatchMode=yes' '-o' 'ServerAliveInterval=30' 'control-1' > /dev/null 2> "$tunnel_log" &`,
    );
    const proxy = lines.indexOf(
      'export http_proxy="socks5h://127.0.0.1:$port" https_proxy="socks5h://127.0.0.1:$port"',
    );
    const rally = lines.findIndex((l) => l.includes("rally_task.py' run"));
    assert.ok(ssh < proxy && proxy < rally, "the proxy is up and exported before Rally runs");
    const trap = lines.indexOf(`trap 'kill \${enos_bg:-} 2>/dev/null; rm -f \${enos_tmp:-}' EXIT`);
    assert.ok(trap >= 0 && trap < ssh, "closed when the run ends");
    assert.match(script, /\ntunnel=\$!; enos_bg="\$\{enos_bg:-\} \$tunnel"\n/);
    // Direct: nothing of the kind, the run's script as it was.
    const direct = { route: clientRoute(providerOf("enos3/vagrant.yaml")), sshConfig: "/st/ssh_config" };
    assert.equal(
      renderRallyRunScript(workload.runs[0], id, { ...paths, client: direct }),
      renderRallyRunScript(workload.runs[0], id, paths),
    );
    assert.deepEqual(renderClientRoute(direct.route, "/st/ssh_config", "/v/bin/python"), []);
  });

  test("Shaker behind a proxy: its API calls through ssh -D, its agents back through a relay and ssh -R", () => {
    const cloud = readWorkload(path.join(PROJECT_DIR, "workloads", "default"));
    const shaker = cloud.runs.find((r) => r.type === "shaker");
    assert.ok(shaker, "the default workload has a Shaker run");
    const paths = { bin: "/v/bin", shakerBin: "/s/bin", workloadDir: cloud.dir, resultsDir: "/r", conditions: "/r/c" };
    const id = { runId: null, fingerprint: "f".repeat(64) };
    const route = routeFor(providerOf("seed/openstack.yaml"), [host("control-1", ["control"])]);
    const script = renderShakerRunScript(shaker, id, {
      ...paths,
      openrc: "/st/admin-openrc",
      client: { route, sshConfig: "/st/ssh_config" },
    });
    const lines = script.split("\n");
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    const proxy = at("export http_proxy=");
    assert.match(
      lines[at("port=$(")],
      /^port=\$\('\/s\/bin\/python' -c /,
      "the proxy's port found with Shaker's python",
    );
    assert.equal(
      `${lines[at("ssh '-F' '/st/ssh_config' '-o'")]}\n${lines[at("ssh '-F' '/st/ssh_config' '-o'") + 1]}`,
      `ssh '-F' '/st/ssh_config' '-o' 'ExitOnForwardFailure=yes' '-o' 'BatchMode=yes' '-o' 'ServerAliveInterval=30' ` +
        `-R 127.0.0.1:${SHAKER_PORT}:127.0.0.1:${SHAKER_PORT} 'control-1' \\\n` +
        `  "exec python3 - $(printf %q "$api") ${SHAKER_PORT}" < '${path.join(PROJECT_DIR, "components", "bench", "agent_relay.py")}'` +
        ` > "$relay_out" 2> "$relay_log" &`,
    );
    const endpoint = lines.indexOf(`endpoint="$(head -1 "$relay_out"):${SHAKER_PORT}"`);
    const run = lines.findIndex((l) => l.includes(`'/s/bin/shaker' --server-endpoint "$endpoint"`));
    assert.ok(at("api=$(") < proxy && proxy < endpoint && endpoint < run, "API, proxy, relay, then Shaker");
    assert.equal(lines.filter((l) => l.startsWith("trap ")).length, 2, "each background ssh ends with the script");
    assert.ok(
      lines.every((l) => !l.startsWith("trap ") || l === lines[at("trap ")]),
      "one cleanup, both sessions",
    );
    assert.doesNotMatch(script, /ip -o route get/);
    // Direct: no proxy, no relay; this machine's own address.
    const direct = renderShakerRunScript(shaker, id, { ...paths, openrc: "/st/admin-openrc" });
    assert.doesNotMatch(direct, /ssh |http_proxy/);
    assert.match(direct, /\naddress=\$\(ip -o route get "\$api" [^\n]*\nendpoint="\$address:5999"\n/);
    assert.equal(
      describeAgentRoute(route),
      "a relay on control-1 (its address on its route to the cloud's API, port 5999), forwarded to this machine by ssh -R",
    );
  });
});
