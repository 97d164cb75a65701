import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FakeG5k } from "../fakes/g5k";
import { machineRoom } from "../fakes/g5k-room";
import { cleanUp, testExperiment } from "../support/harness";

export interface G5kBenchRow {
  nodes: number;
  sites: number;
  previewSeconds: number;
  upSeconds: number;
  destroySeconds: number;
  /** Peak resident memory of the engine (pulumi preview/up/destroy), polled. */
  enginePeakMiB: number;
  /** Peak resident memory of this process, where the program runs (Automation API, inline). */
  programPeakMiB: number;
}

/** Peak VmHWM of this stack's engine processes while `run` runs. */
async function withEnginePeak<T>(stackName: string, run: () => Promise<T>): Promise<[T, number]> {
  let peakKiB = 0;
  const timer = setInterval(() => {
    const pids = spawnSync("pgrep", ["-f", `pulumi (preview|up|destroy) .*--stack ${stackName}( |$)`], {
      encoding: "utf8",
    })
      .stdout.split("\n")
      .filter(Boolean);
    for (const pid of pids) {
      const status = fs.existsSync(`/proc/${pid}/status`) ? fs.readFileSync(`/proc/${pid}/status`, "utf8") : "";
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
    }
  }, 100);
  try {
    return [await run(), Math.round(peakKiB / 1024)];
  } finally {
    clearInterval(timer);
  }
}

/**
 * A 1000-node Grid'5000 stack (10 clusters of 100 nodes on 4 sites, a KaVLAN on each) against the
 * fake API: preview (what `enos preview` does), then up (which probes every node over SSH) and
 * destroy, timed. Goal: preview < 60 s, < 2 GiB. One namespace host stands for each cluster's 100 nodes.
 */
export async function benchG5k(): Promise<G5kBenchRow> {
  const sites = ["lille", "lyon", "nancy", "rennes"];
  const clusters = Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [`clu${String.fromCharCode(97 + i)}`, { site: sites[i % 4], nodes: 100 }]),
  );
  const resources = Object.fromEntries(
    Object.keys(clusters).map((c, i) => [c, i === 0 ? { control: 1, network: 1, compute: 98 } : { compute: 100 }]),
  );
  const nodesOf = Object.entries(clusters).map(([c, { site, nodes }]) =>
    Array.from({ length: nodes }, (_, i) => `${c}-${i + 1}.${site}.grid5000.fr`),
  );
  const room = await machineRoom(`tbroom${process.pid}`, ["10.235.0.0/24", "10.236.0.0/24"], nodesOf, "4");
  // One sshd answers for 100 nodes here: let it take the probe's parallel sessions (sshd re-reads this at the
  // deployment).
  for (const machine of Object.values(room.machines))
    fs.appendFileSync(path.join(machine.dir, "sshd_config"), "MaxStartups 100:30:200\n");
  const fake = new FakeG5k({ clusters, pollsBeforeRunning: 2, machines: room.machines, devices: ["eth0", "eth1"] });
  const url = await fake.start();
  const name = `tbbench${process.pid}`;
  const experiment = await testExperiment(
    name,
    {
      provider: {
        type: "g5k",
        api_url: url,
        poll_interval: 0.05,
        wait_timeout: 120,
        vlans: Object.fromEntries(sites.map((s) => [s, "{type='kavlan'}/vlan=1"])),
      },
      resources,
      g5k_username: "alice",
    },
    undefined,
    { pulumiCommand: room.engine },
  );
  await experiment.stack.setConfig("enos:g5k_password", { value: "s3cret", secret: true });
  try {
    let start = performance.now();
    const [, previewPeak] = await withEnginePeak(name, () => experiment.stack.preview({ parallel: 64 }));
    const previewSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    const [up, upPeak] = await withEnginePeak(name, () => experiment.stack.up({ parallel: 64 }));
    const upSeconds = (performance.now() - start) / 1000;
    if (Object.keys(up.outputs.hosts.value).length !== 1000) throw new Error("wrong host count");
    start = performance.now();
    const [, destroyPeak] = await withEnginePeak(name, () => experiment.stack.destroy({ parallel: 64 }));
    const destroySeconds = (performance.now() - start) / 1000;
    return {
      nodes: 1000,
      sites: sites.length,
      previewSeconds,
      upSeconds,
      destroySeconds,
      enginePeakMiB: Math.max(previewPeak, upPeak, destroyPeak),
      programPeakMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await cleanUp(experiment);
    await fake.stop();
    await room.close();
  }
}
