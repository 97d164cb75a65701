import * as assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { openTunnel } from "../../cli/ssh-tunnel";
import { renderAgentEndpoint, routeFor, SHAKER_PORT } from "../../components/bench/client";
import { type BenchPaths, renderRallyEnvScript, renderRallyRunScript } from "../../components/bench/render";
import { loadExperiment } from "../../config/load";
import { PROJECT_DIR } from "../../config/paths";
import { shellQuote } from "../../config/shell";
import type { Host } from "../../config/types";
import { localNames } from "../../providers/local/plan";
import { readWorkload } from "../../workloads/run-file";
import { cleanUp, recordOf, type TestExperiment, testExperiment } from "../support/harness";
import { freePort } from "../support/helpers";

// Subnets 10.183/10.184 and the address 10.185.0.1 are this file's.
const provider = { type: "local", api_cidr: "10.183.0.0/24", external_cidr: "10.184.0.0/24" };
const VIP = "10.185.0.1";
const PORT = 8080;
/** The relay on the control host, as ps shows it: [path/]python3 - API PORT (not the ssh that started it). */
const RELAY_PATTERN = `^\\S*python3 - \\S+ ${SHAKER_PORT}$`;

/**
 * A VIP only the testbed reaches, as behind an OpenStack gateway or in a Grid'5000 KaVLAN: an address
 * on the control host's loopback (a namespace of the local testbed) that no route of this machine
 * leads to, with an HTTP server on it. Rally (its HttpRequests scenario, python-requests as Rally's
 * OpenStack clients use it) and `enos ssh-tunnel` reach it through the SOCKS proxy ssh opens on the
 * control host with the stack's ssh_config. No test traffic goes to the VIP from this machine itself.
 */
describe("benchmark clients reach a VIP only the control host reaches, through a SOCKS proxy", {
  timeout: 600_000,
}, () => {
  let bed: TestExperiment;
  let control: Host;
  let sshConfig: string;
  let namespace: string;
  let server: ChildProcess | undefined;
  let dir: string;
  const requestsSeen = () => fs.readFileSync(path.join(dir, "http.log"), "utf8").match(/"GET \/ HTTP/g)?.length ?? 0;
  const proxies = () => spawnSync("pgrep", ["-f", `ssh -F ${sshConfig} -n -N -D`], { encoding: "utf8" }).stdout.trim();
  const relays = () => spawnSync("pgrep", ["-f", RELAY_PATTERN], { encoding: "utf8" }).stdout.trim();
  /** The provider of an OpenStack testbed behind its gateway: its route goes through this testbed's control host. */
  const behindGateway = () =>
    loadExperiment({
      stack: { reservationFile: path.join(PROJECT_DIR, "tests", "fixtures", "seed", "openstack.yaml") },
      baseDir: path.join(PROJECT_DIR, "tests", "fixtures", "seed"),
    }).provider;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-bench-client-"));
    bed = await testExperiment(`bc${process.pid}`, { provider, resources: { control: 1, network: 1, compute: 1 } });
    await bed.stack.up({ parallel: 64 });
    const record = await recordOf(bed.stack);
    sshConfig = record.sshConfig;
    control = record.hosts.find((h) => h.roles.includes("control"))!;
    namespace = `${localNames(bed.name).namespacePrefix}${control.alias}`;
    execFileSync("ip", ["netns", "exec", namespace, "ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
    const log = fs.openSync(path.join(dir, "http.log"), "w");
    server = spawn("ip", ["netns", "exec", namespace, "python3", "-m", "http.server", "--bind", VIP, String(PORT)], {
      stdio: ["ignore", log, log],
      cwd: dir,
    });
    const up = () =>
      spawnSync("ip", [
        "netns",
        "exec",
        namespace,
        "python3",
        "-c",
        `import socket; socket.create_connection(("${VIP}", ${PORT}), 1)`,
      ]).status === 0;
    for (let i = 0; i < 50 && !up(); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(up(), "the HTTP server on the VIP listens");
  });
  after(async () => {
    server?.kill();
    await cleanUp(bed);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a Rally run through the proxy that the testbed's route opens reaches the VIP; the proxy closes with it", () => {
    const workload = path.join(dir, "workload");
    fs.mkdirSync(workload);
    fs.writeFileSync(path.join(workload, "run.yml"), "rally:\n  scenarios:\n    - {name: vip, file: vip.yml}\n");
    fs.writeFileSync(
      path.join(workload, "vip.yml"),
      [
        "version: 2",
        "title: the VIP",
        "subtasks:",
        "  - title: GET /",
        "    scenario:",
        `      HttpRequests.check_request: {url: "http://${VIP}:${PORT}/", method: GET, status_code: 200}`,
        "    runner: {constant: {times: 3, concurrency: 1}}",
        "    sla: {failure_rate: {max: 0}}",
        "",
      ].join("\n"),
    );
    const [run] = readWorkload(workload).runs;
    const results = path.join(dir, "results");
    const paths: BenchPaths = {
      bin: path.join(PROJECT_DIR, ".venv", "bin"),
      shakerBin: path.join(PROJECT_DIR, ".venv-shaker", "bin"),
      workloadDir: workload,
      resultsDir: results,
      conditions: path.join(results, "conditions.json"),
    };
    fs.mkdirSync(results);
    fs.writeFileSync(paths.conditions, JSON.stringify({ configuration: "c", openstack: null, network: null }));
    const route = routeFor(behindGateway(), [control]);
    assert.equal(route.through, "socks");
    execFileSync("bash", ["-c", renderRallyEnvScript(paths)]);
    const script = renderRallyRunScript(
      run,
      { runId: null, fingerprint: "f" },
      { ...paths, client: { route, sshConfig } },
    );
    const ran = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 300_000 });
    assert.equal(ran.status, 0, ran.stderr);
    const out = ran.stdout.trim();
    const workloadReport = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8")).tasks[0].subtasks[0]
      .workloads[0];
    assert.deepEqual(
      [workloadReport.total_iteration_count, workloadReport.failed_iteration_count, workloadReport.pass_sla],
      [3, 0, true],
      fs.readFileSync(path.join(out, "rally.log"), "utf8"),
    );
    assert.equal(requestsSeen(), 3, "the server on the VIP answered Rally's 3 requests");
    assert.equal(proxies(), "", "no ssh proxy left behind");
  });

  test("enos ssh-tunnel's proxy carries a client (curl) to the VIP until it is closed", async () => {
    const port = await freePort();
    const before = requestsSeen();
    const ssh = await openTunnel(sshConfig, control.alias, port);
    try {
      const curl = spawnSync(
        "curl",
        [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--socks5-hostname",
          `127.0.0.1:${port}`,
          `http://${VIP}:${PORT}/`,
        ],
        { encoding: "utf8", timeout: 30_000 },
      );
      assert.equal(curl.stdout, "200", curl.stderr);
      assert.equal(requestsSeen(), before + 1);
    } finally {
      ssh.kill();
    }
    await new Promise((r) => ssh.once("exit", r));
    // A second tunnel on a port in use is refused, not taken for open.
    const blocker = await openTunnel(sshConfig, control.alias, port);
    try {
      await assert.rejects(openTunnel(sshConfig, control.alias, port), new RegExp(`127\\.0\\.0\\.1:${port} is in use`));
    } finally {
      blocker.kill();
      await new Promise((r) => blocker.once("exit", r));
    }
  });

  test("Shaker's agents reach its server here through the relay on the control host; both end with the script", async () => {
    // An agent booted in the over-cloud: a process in the compute host's namespace, which has no route
    // to this machine. Shaker's server: an echo server on SHAKER_PORT of this machine, as Shaker binds it.
    const compute = (await recordOf(bed.stack)).hosts.find((h) => h.roles.includes("compute"))!;
    const computeNs = `${localNames(bed.name).namespacePrefix}${compute.alias}`;
    const echo = spawn("python3", [
      "-c",
      `import socket\ns = socket.create_server(("127.0.0.1", ${SHAKER_PORT}))\nwhile True:\n` +
        "    c, _ = s.accept(); c.sendall(b'server got ' + c.recv(100)); c.close()",
    ]);
    try {
      const agent =
        `ip netns exec ${computeNs} python3 -c 'import socket, sys; h, p = sys.argv[1].split(":"); ` +
        `c = socket.create_connection((h, int(p)), 5); c.sendall(b"hello"); print(c.recv(100).decode())' "$endpoint"`;
      const script = [
        "set -euo pipefail",
        `api=${compute.address}`,
        ...renderAgentEndpoint({ route: routeFor(behindGateway(), [control]), sshConfig }),
        'echo "$endpoint"',
        // While the script runs, the relay does: the check after it ends cannot pass for a pattern that finds nothing.
        `echo "relays: $(pgrep -cf ${shellQuote(RELAY_PATTERN)})"`,
        agent,
      ].join("\n");
      const ran = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 60_000 });
      assert.equal(ran.status, 0, ran.stderr);
      assert.deepEqual(ran.stdout.trim().split("\n"), [
        `${control.address}:${SHAKER_PORT}`,
        "relays: 1",
        "server got hello",
      ]);
    } finally {
      echo.kill();
    }
    for (let i = 0; i < 25 && relays(); i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(relays(), "", "the relay on the control host ended with its ssh session");
  });
});
