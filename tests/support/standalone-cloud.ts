import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { devCloudDown, devCloudUp } from "../../components/dev-cloud";
import { openrcEnv, openstackShell } from "./openstack-shell";

const sh = (script: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync("bash", ["-c", script], { encoding: "utf8", env });

/** A dev cloud of a test's own: a namespace reached from this machine over a veth, the cloud in it. */
export interface StandaloneCloud {
  /** OS_* of its admin, as its admin-openrc sets them. */
  env: Record<string, string>;
  /** The cirros-like image file the cloud made. */
  image: string;
  /** Runs the openstack client as the cloud's admin; returns its stdout. */
  openstack(...args: string[]): string;
  /** Sends a signal (STOP, CONT) to one of its daemons' process group (e.g. nova-compute). */
  signal(daemon: string, signal: "STOP" | "CONT"): void;
  /** Stops the cloud, removes its namespace, links, routes and files. */
  remove(): void;
}

/**
 * Stands up the dev cloud's scripts in a namespace `name` whose end of a veth has `.2` of `cidr`
 * (this machine's end `.1`); its external network is `externalCidr`, routed to nowhere ("prohibit")
 * on this machine, so that an SSH attempt at a floating IP fails at once and sends no packet out.
 */
export function standaloneCloud(name: string, cidr: string, externalCidr: string): StandaloneCloud {
  const [a, b, c] = cidr.split(".");
  const [here, there] = [`${a}.${b}.${c}.1`, `${a}.${b}.${c}.2`];
  const tag = crypto.createHash("sha1").update(name).digest("hex").slice(0, 6);
  const [hostEnd, cloudEnd] = [`sc${tag}h`, `sc${tag}c`];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `enos-${name}-`));
  const cloudDir = path.join(dir, "cloud");
  const remove = () => {
    sh(
      `${devCloudDown(cloudDir)} || true; ip route del prohibit ${externalCidr} 2>/dev/null; ip link del ${hostEnd} 2>/dev/null; ip netns del ${name} 2>/dev/null; true`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (const subnet of [cidr, externalCidr]) {
    const route = sh(`ip route show ${subnet}`).trim();
    if (route)
      throw new Error(`${subnet} is already routed on this machine (${route}): another test or experiment uses it`);
  }
  try {
    sh(`set -e
      ip netns add ${name}
      ip link add ${hostEnd} type veth peer name ${cloudEnd}
      ip link set ${cloudEnd} netns ${name}
      ip addr add ${here}/24 dev ${hostEnd}; ip link set ${hostEnd} up
      ip netns exec ${name} sh -c 'ip link set lo up; ip addr add ${there}/24 dev ${cloudEnd}; ip link set ${cloudEnd} up'
      ip route add prohibit ${externalCidr}`);
    sh(devCloudUp(name, cloudDir, there, path.join(cloudDir, "admin-openrc.sh")), {
      ...process.env,
      DEV_CLOUD_PASSWORD: crypto.randomBytes(18).toString("hex"),
    });
  } catch (error) {
    remove();
    throw error;
  }
  const env = openrcEnv(path.join(cloudDir, "admin-openrc.sh"));
  const shell = openstackShell(env);
  const signal = (daemon: string, sig: string) =>
    sh(`kill -${sig} -- -"$(cat ${path.join(cloudDir, "run", `${daemon}.pid`)})"`);
  return {
    env,
    image: path.join(cloudDir, "cirros.qcow2"),
    openstack: shell.run,
    signal,
    remove() {
      shell.close();
      remove();
    },
  };
}
