import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { callbackEnv } from "../../components/monitoring/render";
import { PROJECT_DIR } from "../../config/paths";
import { cleanUp, leftovers, recordOf, type TestExperiment, testExperiment } from "../support/harness";

const VENV_BIN = path.join(PROJECT_DIR, ".venv", "bin");
const provider = { type: "local", api_cidr: "10.228.0.0/24", external_cidr: "10.229.0.0/24" };
const topology = { grp1: { default: { control: 1, network: 1 } }, grp2: { default: { compute: 1 } } };

/** Ansible's recap line of one host: counts by name. */
function recap(output: string, alias: string): Record<string, number> {
  const line = new RegExp(`^${alias}\\s+:\\s+(.*)$`, "m").exec(output);
  assert.ok(line, `${alias} in the play recap:\n${output}`);
  return Object.fromEntries(
    line[1]
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split("="))
      .map(([k, v]) => [k, Number(v)]),
  );
}

describe("monitoring in check mode on the local testbed", { timeout: 600_000 }, () => {
  let local: TestExperiment;
  before(async () => {
    local = await testExperiment(`op${process.pid}m`, {
      provider,
      topology,
      enable_monitoring: true,
      kolla_mode: "check",
    });
  });
  after(async () => cleanUp(local));

  test("the playbooks pass --syntax-check, and --check against every namespace host", async (t) => {
    const up = await local.stack.up({ parallel: 64 });
    assert.equal(up.summary.result, "succeeded");
    const hosts: { alias: string; address: string; roles: string[] }[] = (await recordOf(local.stack)).hosts;
    assert.equal(up.outputs.grafanaUrl, undefined, "check mode starts no Grafana");

    const state = await local.stack.exportStack();
    const command = state.deployment.resources.find(
      (r: { urn: string; type: string }) => r.type.endsWith(":Command") && r.urn.endsWith("::monitoring"),
    );
    const output: string = command.outputs.stdout;
    t.diagnostic(output.slice(output.indexOf("PLAY RECAP")));
    assert.match(output, /playbook: \S*monitoring\.yml/, "--syntax-check of the deploy playbook");
    assert.match(output, /playbook: \S*monitoring-remove\.yml/, "--syntax-check of the remove playbook");
    for (const play of [
      "collectd on every host",
      "InfluxDB and Grafana on the monitoring host",
      "cAdvisor on every host",
    ]) {
      assert.match(output, new RegExp(`PLAY \\[${play}\\]`));
    }
    for (const h of hosts) {
      const counts = recap(output, h.alias);
      assert.deepEqual([counts.failed, counts.unreachable], [0, 0], `${h.alias}: ${JSON.stringify(counts)}`);
      assert.ok(counts.ok >= 4, `${h.alias} ran its tasks: ${JSON.stringify(counts)}`);
    }
    // Templates are rendered for real in check mode: the collectd and InfluxDB configurations would be written.
    assert.match(output, /TASK \[collectd sends to InfluxDB's collectd input\][\s\S]*?changed: \[/);
    assert.match(output, /TASK \[InfluxDB configuration \(HTTP and collectd input\)\][\s\S]*?changed: \[/);
    assert.ok(
      !fs.existsSync("/etc/enos-monitoring") && !fs.existsSync("/etc/collectd/collectd.conf"),
      "check mode changed nothing",
    );
  });

  test("destroy leaves nothing", async () => {
    await local.stack.destroy({ parallel: 64 });
    assert.deepEqual(leftovers(local.name, local.stateDir), []);
  });
});

describe("the annotations callback", { timeout: 120_000 }, () => {
  let dir: string;
  let server: http.Server;
  const received: { url: string; body: string }[] = [];
  let refuseFirst = true;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-callback-"));
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d));
      req.on("end", () => {
        // InfluxDB not up yet for the first write, as while the monitoring playbook starts it.
        if (refuseFirst) {
          refuseFirst = false;
          res.writeHead(503).end();
          return;
        }
        received.push({ url: req.url ?? "", body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a real ansible-playbook run writes each playbook and play start and end to the events database, in line protocol", async () => {
    fs.writeFileSync(
      path.join(dir, "site.yml"),
      [
        "- name: first play",
        "  hosts: localhost",
        "  gather_facts: false",
        "  tasks:",
        "    - ansible.builtin.debug: { msg: one }",
        "- name: second play",
        "  hosts: localhost",
        "  gather_facts: false",
        "  tasks:",
        "    - ansible.builtin.debug: { msg: two }",
        "",
      ].join("\n"),
    );
    const { port } = server.address() as AddressInfo;
    const env = {
      ...process.env,
      ...callbackEnv(`http://127.0.0.1:${port}`),
      PATH: `${VENV_BIN}:${process.env.PATH}`,
      ANSIBLE_LOCALHOST_WARNING: "false",
    };
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        "ansible-playbook",
        ["-i", "localhost,", "-c", "local", path.join(dir, "site.yml")],
        { env, cwd: dir },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout + stderr),
      );
    });
    assert.match(
      output,
      /influxdb_events: cannot write to http:\/\/127.0.0.1:\d+\/write\?db=events&precision=ns \(HTTP Error 503/,
    );
    assert.ok(
      received.every((r) => r.url === "/write?db=events&precision=ns"),
      JSON.stringify(received.map((r) => r.url)),
    );
    const lines = received.flatMap((r) => r.body.split("\n"));
    const points = lines.map((l) => {
      const m = /^events title="([^"]*)",text="([^"]*)",tags="([^"]*)",type="(playbook|play)" (\d{19})$/.exec(l);
      assert.ok(m, `line protocol: ${l}`);
      return { title: m[1], text: m[2], tags: m[3], type: m[4], ns: BigInt(m[5]) };
    });
    // Every event once, in order, the one refused included.
    assert.deepEqual(
      points.map((p) => p.text),
      [
        "playbook site.yml started",
        "play first play started",
        "play first play finished",
        "play second play started",
        "play second play finished",
        "playbook site.yml finished",
      ],
    );
    assert.deepEqual(
      points.map((p) => p.type),
      ["playbook", "play", "play", "play", "play", "playbook"],
    );
    assert.equal(points[1].tags, "play site.yml first play");
    for (let i = 1; i < points.length; i++) assert.ok(points[i].ns >= points[i - 1].ns, "timestamps in order");
    const now = BigInt(Date.now()) * 1_000_000n;
    assert.ok(now - points[0].ns < 60_000_000_000n && points[0].ns <= now, "nanosecond timestamps of now");
  });
});
