import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import {
  type BackupIndex,
  backupDirName,
  directoryScript,
  MISSING,
  planBackup,
  renderIndexMarkdown,
  summarize,
} from "../../../../components/backup/plan";

const hosts = [
  { alias: "grp1-control-1", devices: ["eth0", "eth1"] },
  { alias: "grp2-compute-1", devices: ["eth0"] },
];

/** Runs a plan's script here, its stdout (the .tar.gz) into a file; returns the status, stderr and archive listing. */
function run(script: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-backup-unit-"));
  try {
    const archive = path.join(dir, "a.tar.gz");
    const result = spawnSync("bash", ["-c", `bash -s > ${archive}`], { input: script, encoding: "utf8" });
    const listing =
      result.status === 0
        ? spawnSync("tar", ["-tzf", archive], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)
        : [];
    return { status: result.status, stderr: result.stderr.trim(), listing };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("backup plan", () => {
  test("one archive per host and kind, named as Enos named them; InfluxDB only on the monitoring host; bench results from the operator", () => {
    const plan = planBackup({
      hosts,
      resultsDir: "/r/dev",
      influxdb: { alias: "grp1-control-1", container: "enos-influxdb" },
    });
    assert.deepEqual(
      plan.hosts.map((h) => [h.alias, h.archives.map((a) => a.file)]),
      [
        [
          "grp1-control-1",
          [
            "grp1-control-1-kolla-logs.tar.gz",
            "grp1-control-1-kolla-conf.tar.gz",
            "grp1-control-1-docker.tar.gz",
            "grp1-control-1-tc.tar.gz",
            "grp1-control-1-influxdb.tar.gz",
          ],
        ],
        [
          "grp2-compute-1",
          [
            "grp2-compute-1-kolla-logs.tar.gz",
            "grp2-compute-1-kolla-conf.tar.gz",
            "grp2-compute-1-docker.tar.gz",
            "grp2-compute-1-tc.tar.gz",
          ],
        ],
      ],
    );
    assert.deepEqual(plan.local, [
      { kind: "rally", file: "operator-rally.tar.gz", dir: "/r/dev/rally" },
      { kind: "shaker", file: "operator-shaker.tar.gz", dir: "/r/dev/shaker" },
    ]);
    const influx = plan.hosts[0].archives.find((a) => a.kind === "influxdb")!.script;
    assert.match(
      influx,
      /docker exec 'enos-influxdb' sh -c 'rm -rf \/tmp\/enos-influxdb-backup && influxd backup -portable \/tmp\/enos-influxdb-backup'/,
    );
    assert.match(influx, /docker cp 'enos-influxdb':\/tmp\/enos-influxdb-backup - \| gzip/);
    for (const archive of plan.hosts[0].archives) {
      assert.match(
        archive.script,
        /\| sudo -n bash -s\n/,
        `${archive.kind}: a login other than root goes through sudo`,
      );
    }
  });

  test("the dev cloud's logs and configs are its host's kolla-logs and kolla-conf; the other hosts keep Kolla's paths", () => {
    const plan = planBackup({
      hosts,
      resultsDir: "/r/dev",
      devCloud: { alias: "grp1-control-1", dir: "/s/dev/dev-cloud" },
    });
    const script = (host: number, kind: string) => plan.hosts[host].archives.find((a) => a.kind === kind)!.script;
    assert.match(
      script(0, "kolla-logs"),
      /targz -C "\$\(readlink -f '\/s\/dev\/dev-cloud\/log'\)" --transform 's,\^\\\.,log,' \./,
    );
    assert.match(
      script(0, "kolla-conf"),
      /targz -C "\$\(readlink -f '\/s\/dev\/dev-cloud\/etc'\)" --transform 's,\^\\\.,etc,' \./,
    );
    assert.match(
      script(1, "kolla-logs"),
      /targz -C "\$\(readlink -f '\/var\/log\/kolla'\)" --transform 's,\^\\\.,kolla,' \./,
    );
  });

  test("without monitoring no host has an InfluxDB archive", () => {
    const plan = planBackup({ hosts, resultsDir: "/r/dev" });
    assert.ok(plan.hosts.every((h) => h.archives.every((a) => a.kind !== "influxdb")));
  });

  test("tc state: qdiscs, classes and filters with counters, one file each per interface of the host", () => {
    const tc = planBackup({ hosts, resultsDir: "/r" }).hosts[0].archives.find((a) => a.kind === "tc")!.script;
    for (const dev of ["eth0", "eth1"]) {
      for (const what of ["qdisc", "class", "filter"])
        assert.ok(tc.includes(`tc -s ${what} show dev '${dev}' > '${dev}-${what}.txt'`), `${dev} ${what}`);
    }
    // Run for real on the loopback interface: reading tc state changes nothing.
    const lo = planBackup({ hosts: [{ alias: "here", devices: ["lo"] }], resultsDir: "/r" }).hosts[0].archives.find(
      (a) => a.kind === "tc",
    )!;
    const { status, listing } = run(lo.script);
    assert.equal(status, 0);
    assert.deepEqual(listing.sort(), ["tc/", "tc/lo-class.txt", "tc/lo-filter.txt", "tc/lo-qdisc.txt"]);
  });

  test("a directory is archived under its own name; an absent one exits MISSING with its path", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-backup-src-"));
    try {
      fs.mkdirSync(path.join(dir, "kolla", "nova"), { recursive: true });
      fs.writeFileSync(path.join(dir, "kolla", "nova", "nova-api.log"), "started\n");
      const present = run(directoryScript(path.join(dir, "kolla")));
      assert.equal(present.status, 0);
      assert.deepEqual(present.listing.sort(), ["kolla/", "kolla/nova/", "kolla/nova/nova-api.log"]);
      // Kolla's /var/log/kolla: a link to its kolla_logs volume, archived with what the volume holds.
      fs.symlinkSync(path.join(dir, "kolla"), path.join(dir, "logs"));
      const linked = run(directoryScript(path.join(dir, "logs")));
      assert.equal(linked.status, 0);
      assert.deepEqual(linked.listing.sort(), ["logs/", "logs/nova/", "logs/nova/nova-api.log"]);
      const absent = run(directoryScript(path.join(dir, "nothing")));
      assert.deepEqual([absent.status, absent.stderr], [MISSING, `${path.join(dir, "nothing")}: no such directory`]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("backup directories sort by time and need no quoting", () => {
    assert.equal(backupDirName(new Date("2026-11-25T03:10:07.123Z")), "2026-11-25T03-10-07Z");
  });

  test("the index says which hosts failed, what was missing and the sizes", () => {
    const index: BackupIndex = {
      stack: "dev",
      timestamp: "2026-11-25T03-10-07Z",
      dir: "/r/dev/backup/2026-11-25T03-10-07Z",
      failedHosts: ["grp2-compute-1"],
      hosts: [
        {
          host: "grp1-control-1",
          status: "ok",
          archives: [
            { kind: "tc", file: "grp1-control-1-tc.tar.gz", status: "collected", bytes: 2048 },
            {
              kind: "docker",
              file: "grp1-control-1-docker.tar.gz",
              status: "missing",
              detail: "docker: no engine answering",
            },
          ],
        },
        {
          host: "grp2-compute-1",
          status: "failed",
          error: "ssh: connect to host 10.0.0.2 port 22: Connection refused",
          archives: [],
        },
      ],
    };
    assert.equal(
      summarize(index),
      "backup of 2 hosts and this machine's bench results in /r/dev/backup/2026-11-25T03-10-07Z: 1 archives, 1 missing, 0 failed; " +
        "hosts failed: grp2-compute-1 (ssh: connect to host 10.0.0.2 port 22: Connection refused)",
    );
    const md = renderIndexMarkdown(index);
    assert.match(md, /\| grp1-control-1 \| tc \| grp1-control-1-tc.tar.gz \(2.0 KiB\) \| collected \| {2}\|/);
    assert.match(md, /\| grp1-control-1 \| docker \| — \| missing \| docker: no engine answering \|/);
    assert.match(
      md,
      /\| grp2-compute-1 \| \(host\) \| — \| failed \| ssh: connect to host 10.0.0.2 port 22: Connection refused \|/,
    );
  });
});
