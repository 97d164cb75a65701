import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { cleanUp, leftovers, testExperiment } from "../support/harness";

export interface TestbedBenchRow {
  hosts: number;
  upSeconds: number;
  destroySeconds: number;
  enginePeakMiB: number;
  leftovers: number;
}

/** Peak resident memory (VmHWM) of the engine process running this stack's update, polled while it runs. */
function watchEnginePeak(stackName: string): () => number {
  let peakKiB = 0;
  const timer = setInterval(() => {
    const pids = spawnSync("pgrep", ["-f", `pulumi (up|destroy) .*--stack ${stackName}`], { encoding: "utf8" })
      .stdout.split("\n")
      .filter(Boolean);
    for (const pid of pids) {
      const status = fs.existsSync(`/proc/${pid}/status`) ? fs.readFileSync(`/proc/${pid}/status`, "utf8") : "";
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
    }
  }, 100);
  return () => {
    clearInterval(timer);
    return Math.round(peakKiB / 1024);
  };
}

/** Up then destroy of N local hosts, timed; hosts are made in parallel. */
export async function benchTestbed(hostCount: number): Promise<TestbedBenchRow> {
  const name = `bench${process.pid}n${hostCount}`;
  const experiment = await testExperiment(name, {
    provider: { type: "local", api_cidr: "10.251.0.0/24", external_cidr: "10.252.0.0/24" },
    resources: { control: 1, network: 1, compute: hostCount - 2 },
  });
  try {
    const stopWatch = watchEnginePeak(name);
    let start = performance.now();
    const up = await experiment.stack.up({ parallel: 64 });
    const upSeconds = (performance.now() - start) / 1000;
    if (Object.keys(up.outputs.hosts.value).length !== hostCount) throw new Error("wrong host count");
    start = performance.now();
    await experiment.stack.destroy({ parallel: 64 });
    const destroySeconds = (performance.now() - start) / 1000;
    return {
      hosts: hostCount,
      upSeconds,
      destroySeconds,
      enginePeakMiB: stopWatch(),
      leftovers: leftovers(name, experiment.stateDir).length,
    };
  } finally {
    await cleanUp(experiment);
  }
}
