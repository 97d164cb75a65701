import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { devCloudDown, devCloudUp } from "../../components/dev-cloud";
import { renderInitCommand } from "../../components/init/script";
import { PROJECT_DIR } from "../../config/paths";

export interface DevCloudBench {
  coldUpSeconds: number;
  warmUpSeconds: number;
  /** Sum of the resident memory of every process in the namespace once up (MiB). */
  rssMiB: number;
  initSeconds: number;
  smokeBootSeconds: number;
  teardownSeconds: number;
}

const NAMESPACE = "enos-bench-devcloud";
const ADDRESS = "10.230.0.2";
const sh = (script: string, env: Record<string, string> = {}) =>
  execFileSync("bash", ["-c", script], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
const timed = (run: () => unknown) => {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
};

/**
 * The dev cloud on its own, in a namespace with a veth to this machine (10.230.0.0/24): stand-up
 * without a database snapshot (a fresh cache) and with one, memory, init and its smoke boot, teardown.
 */
export async function benchDevCloud(): Promise<DevCloudBench> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "enos-bench-devcloud-"));
  const dir = path.join(work, "cloud");
  const openrc = path.join(work, "admin-openrc.sh");
  const env = {
    DEV_CLOUD_PASSWORD: "bench-password",
    DEV_CLOUD_CACHE: path.join(work, "cache"),
    PATH: `${path.join(PROJECT_DIR, ".venv", "bin")}:${process.env.PATH}`,
  };
  sh(`ip netns add ${NAMESPACE}; ip link add ebdc0 type veth peer name eth0 netns ${NAMESPACE}
    ip addr add 10.230.0.1/24 dev ebdc0; ip link set ebdc0 up
    ip -n ${NAMESPACE} addr add ${ADDRESS}/24 dev eth0; ip -n ${NAMESPACE} link set eth0 up; ip -n ${NAMESPACE} link set lo up`);
  try {
    const up = () => sh(devCloudUp(NAMESPACE, dir, ADDRESS, openrc), env);
    const coldUpSeconds = timed(up);
    sh(devCloudDown(dir), env);
    const warmUpSeconds = timed(up);
    const rssMiB = Math.round(
      Number(sh(`ps -o rss= -p "$(ip netns pids ${NAMESPACE} | paste -sd,)" | awk '{s+=$1} END {print s}'`)) / 1024,
    );
    const external = {
      cidr: "10.230.1.0/24",
      start: "10.230.1.100",
      end: "10.230.1.200",
      gateway: "10.230.1.1",
      dns: "10.230.1.1",
    };
    const initSeconds = timed(() =>
      sh(
        renderInitCommand(
          { openrc, image: path.join(dir, "cirros.qcow2"), external, pollInterval: 1 },
          path.join(PROJECT_DIR, ".venv", "bin"),
        ),
        env,
      ),
    );
    const smokeBootSeconds = timed(() =>
      sh(
        `. ${openrc}; openstack server create --flavor m1.tiny --image cirros.uec --network private --wait bench >/dev/null`,
        env,
      ),
    );
    const teardownSeconds = timed(() => sh(devCloudDown(dir), env));
    return { coldUpSeconds, warmUpSeconds, rssMiB, initSeconds, smokeBootSeconds, teardownSeconds };
  } finally {
    sh(
      `${devCloudDown(dir)}; ip netns pids ${NAMESPACE} | xargs -r kill -9; ip netns del ${NAMESPACE}; ip link del ebdc0 2>/dev/null || true`,
      env,
    );
    fs.rmSync(work, { recursive: true, force: true });
  }
}
