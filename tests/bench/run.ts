import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import { benchDevCloud } from "./dev-cloud";
import { benchG5k } from "./g5k";
import { benchKolla } from "./kolla";
import { benchNetemVm } from "./netem-vm";
import { benchTc } from "./tc";
import { benchTestbed } from "./testbed";

/** A benchmark of `npm run bench`: what it measured (bench.json) and its part of bench.md. */
interface Row {
  json: unknown;
  table: string[];
}

const ROWS: Record<string, () => Promise<Row>> = {
  // First, so that this process's peak memory is the g5k program's.
  g5k: async () => {
    const g5k = await benchG5k();
    console.log(
      `g5k: ${g5k.nodes} nodes preview ${g5k.previewSeconds.toFixed(1)} s, up ${g5k.upSeconds.toFixed(1)} s, engine peak ${g5k.enginePeakMiB} MiB`,
    );
    return {
      json: g5k,
      table: [
        "| g5k nodes (fake API) | sites | preview (s) | up (s) | destroy (s) | engine peak (MiB) | program peak (MiB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        `| ${g5k.nodes} | ${g5k.sites} | ${g5k.previewSeconds.toFixed(1)} | ${g5k.upSeconds.toFixed(1)} | ${g5k.destroySeconds.toFixed(1)} | ${g5k.enginePeakMiB} | ${g5k.programPeakMiB} |`,
        "",
        "Goal: preview of 1000 Grid'5000 nodes in under 60 s and 2 GiB.",
      ],
    };
  },
  testbed: async () => {
    const testbed = [];
    for (const hosts of [4, 16, 32]) {
      const row = await benchTestbed(hosts);
      console.log(
        `testbed: ${hosts} hosts up ${row.upSeconds.toFixed(1)} s, destroy ${row.destroySeconds.toFixed(1)} s, engine peak ${row.enginePeakMiB} MiB`,
      );
      testbed.push(row);
    }
    return {
      json: testbed,
      table: [
        "| local hosts | up (s) | destroy (s) | engine peak memory (MiB) | leftovers after destroy |",
        "| ---: | ---: | ---: | ---: | ---: |",
        ...testbed.map(
          (r) =>
            `| ${r.hosts} | ${r.upSeconds.toFixed(1)} | ${r.destroySeconds.toFixed(1)} | ${r.enginePeakMiB} | ${r.leftovers} |`,
        ),
        "",
        "Goal: 32 hosts up in under 60 s on 2 cores.",
      ],
    };
  },
  tc: async () => {
    const tc = await benchTc();
    const sessions = [...new Set(tc.sshSessionsPerHost)].join(", ");
    return {
      json: tc,
      table: [
        "| tc: hosts | groups | host rules | plan (ms) | apply, all hosts in parallel (s) | SSH sessions per host |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        `| ${tc.hosts} | ${tc.groups} | ${tc.hostRules} | ${tc.planMs.toFixed(2)} | ${tc.applySeconds.toFixed(1)} | ${sessions} |`,
      ],
    };
  },
  "dev-cloud": async () => {
    const devCloud = await benchDevCloud();
    console.log(
      `dev cloud: stand-up cold ${devCloud.coldUpSeconds.toFixed(0)} s, from snapshot ${devCloud.warmUpSeconds.toFixed(0)} s, ${devCloud.rssMiB} MiB`,
    );
    return {
      json: devCloud,
      table: [
        "Dev cloud (Debian's OpenStack in a namespace; Rally's per-scenario times are in results/dev/rally/summary.md):",
        "",
        "| stand-up cold (s) | from DB snapshot (s) | RSS (MiB) | init (s) | smoke boot to ACTIVE (s) | teardown (s) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        `| ${devCloud.coldUpSeconds.toFixed(0)} | ${devCloud.warmUpSeconds.toFixed(0)} | ${devCloud.rssMiB} | ${devCloud.initSeconds.toFixed(0)} | ${devCloud.smokeBootSeconds.toFixed(1)} | ${devCloud.teardownSeconds.toFixed(1)} |`,
      ],
    };
  },
  kolla: async () => {
    const kolla = await benchKolla();
    console.log(
      `kolla stack: images ${kolla.imagesSeconds.toFixed(0)} s, up ${kolla.upSeconds.toFixed(0)} s, no-op re-up ${kolla.noOpUpSeconds.toFixed(0)} s, destroy ${kolla.destroySeconds.toFixed(0)} s`,
    );
    return {
      json: kolla,
      table: [
        "Kolla stack (Pulumi.kolla.yaml: kolla-ansible on 3 machine hosts, then init and Rally):",
        "",
        "| images (s) | images were | up from nothing (s) | no-op re-up (s) | its changes | destroy (s) | leftovers |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
        `| ${kolla.imagesSeconds.toFixed(0)} | ${kolla.imagesCached ? "cached" : "built"} | ${kolla.upSeconds.toFixed(0)} | ${kolla.noOpUpSeconds.toFixed(1)} | ${kolla.noOpChanges} | ${kolla.destroySeconds.toFixed(0)} | ${kolla.leftovers} |`,
        "",
        `Its steps (s): ${Object.entries(kolla.steps)
          .map(([step, s]) => `${step} ${s}`)
          .join(", ")}`,
        "",
        "Goals: with images cached, up under 15 minutes (900 s) on 2 cores; a no-op re-up under 30 s.",
      ],
    };
  },
  "netem-vm": async () => {
    const netemVm = [await benchNetemVm(false), await benchNetemVm(true)];
    return {
      json: netemVm,
      table: [
        "Seed example in the netem VM (software-emulated CPU), 200 fping probes per pair:",
        "",
        "| mode | pairs | worst RTT error (ms) | worst pair | apply in VM (s) | verify in VM (s) | whole run (s) |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
        ...netemVm.map(
          (r) =>
            `| ${r.mode} | ${r.pairs} | ${r.worstRttErrorMs.toFixed(2)} | ${r.worstPair} | ${r.applySeconds.toFixed(2)} | ${r.verifySeconds.toFixed(1)} | ${r.totalSeconds.toFixed(1)} |`,
        ),
      ],
    };
  },
};

/**
 * `npm run bench [-- ROW...]`: timing goals live here, not in tests. Runs every benchmark, or the rows named
 * (g5k, testbed, tc, dev-cloud, kolla, netem-vm), and writes results/bench/bench.{json,md} with those.
 */
async function main() {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !(name in ROWS));
  if (unknown.length) {
    console.error(`npm run bench: no benchmark ${unknown.join(", ")}; the rows are ${Object.keys(ROWS).join(", ")}`);
    process.exit(2);
  }
  const json: Record<string, unknown> = {};
  const tables: string[][] = [];
  for (const [name, run] of Object.entries(ROWS)) {
    if (asked.length && !asked.includes(name)) continue;
    const row = await run();
    json[name] = row.json;
    tables.push(row.table);
  }
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? "unknown CPU"}`;
  const dir = path.join(PROJECT_DIR, "results", "bench");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "bench.json"),
    JSON.stringify({ date: new Date().toISOString(), machine, ...json }, null, 2),
  );
  const table = [`Machine: ${machine}`, ...tables.flatMap((rows) => ["", ...rows])].join("\n");
  fs.writeFileSync(path.join(dir, "bench.md"), `${table}\n`);
  console.log(`\n${table}\n\nwritten to ${dir}/bench.{json,md}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
