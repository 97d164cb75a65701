import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { local } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PROJECT_DIR, STATE_DIR } from "../config/paths";
import { shellQuote } from "../config/shell";
import type { Host } from "../config/types";
import { groupHosts } from "../kolla/inventory";
import type { DevCloudSource } from "./backup/plan";
import { BASH, replacedFirst } from "./commands";

export interface DevCloudArgs {
  /** The control host's network namespace: every daemon runs in it. */
  namespace: pulumi.Input<string>;
  /** The control host's API address: every endpoint listens on it. */
  address: pulumi.Input<string>;
  /** Configs, databases, logs and pid files: .pulumi-state/<stack>/dev-cloud. */
  dir: string;
  /** Where the admin-openrc goes (where Kolla's post-deploy would write it). */
  openrc: string;
}

/** The stand-up and teardown scripts, usable on their own (see their headers). */
export const DEV_CLOUD_SCRIPTS = path.join(PROJECT_DIR, "components", "dev-cloud");

/** The shell line that stands the control plane up; its admin password comes from DEV_CLOUD_PASSWORD. */
export function devCloudUp(namespace: string, dir: string, address: string, openrc: string): string {
  return [path.join(DEV_CLOUD_SCRIPTS, "up.sh"), namespace, dir, address, openrc].map(shellQuote).join(" ");
}

/** The shell line that deletes its servers, stops every daemon by PID and removes `dir`. */
export function devCloudDown(dir: string): string {
  // The venv's openstack client deletes the servers first.
  return `PATH=${shellQuote(path.join(PROJECT_DIR, ".venv", "bin"))}:"$PATH" ${shellQuote(path.join(DEV_CLOUD_SCRIPTS, "down.sh"))} ${shellQuote(dir)}`;
}

/** Where a stack's dev cloud lives. */
export const devCloudDir = (stack: string, stateDir = STATE_DIR) => path.join(stateDir, stack, "dev-cloud");

/** The host the dev cloud runs on: the first control host, as Kolla would put its control plane. */
export const devCloudHost = (hosts: Host[]): Host => groupHosts("control", hosts)[0];

/** What a backup takes from the dev cloud: its logs and configs, as its host's kolla-logs and kolla-conf. */
export const devCloudSource = (stack: string, hosts: Host[], stateDir = STATE_DIR): DevCloudSource => ({
  alias: devCloudHost(hosts).alias,
  dir: devCloudDir(stack, stateDir),
});

/** Changed scripts stand the cloud up anew. */
function scriptsHash(): string {
  const hash = createHash("sha256");
  for (const file of fs.readdirSync(DEV_CLOUD_SCRIPTS).sort())
    hash.update(file).update(fs.readFileSync(path.join(DEV_CLOUD_SCRIPTS, file)));
  return hash.digest("hex").slice(0, 16);
}

/**
 * Debian's packaged OpenStack (Keystone, Glance, Placement, Nova with the fake driver, Neutron
 * ML2/linuxbridge) standing in for a Kolla deploy on the local testbed: started in the control host's
 * namespace with its endpoints on the host's API address, its admin password a secret, and an
 * admin-openrc where Kolla's would be, so init and the benchmarks run against live APIs. Deleting it
 * deletes the servers, then stops every daemon by PID and leaves nothing.
 */
export class DevCloud extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:DevCloud";
  public readonly adminOpenrc: pulumi.Output<string>;
  /** New for every stand-up: what depends on the cloud's content (init) runs again when it changes. */
  public readonly cloudId: pulumi.Output<string>;

  constructor(name: string, args: DevCloudArgs, opts?: pulumi.ComponentResourceOptions) {
    super(DevCloud.__pulumiType, name, {}, opts);
    const password = new random.RandomPassword(
      `${name}-admin-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const cloud = new local.Command(
      name,
      {
        create: pulumi
          .all([args.namespace, args.address])
          .apply(([namespace, address]) => devCloudUp(namespace, args.dir, address, args.openrc)),
        delete: devCloudDown(args.dir),
        interpreter: BASH,
        environment: { DEV_CLOUD_PASSWORD: password.result },
        triggers: [args.namespace, args.address, scriptsHash()],
      },
      replacedFirst({ parent: this, additionalSecretOutputs: ["environment"] }),
    );
    // The command's outputs are secret (its environment holds the password); the file's path and the
    // cloud's id are not, and init, Rally and the stack outputs would all show "[secret]" otherwise.
    this.adminOpenrc = pulumi.unsecret(cloud.stdout.apply(() => args.openrc));
    this.cloudId = pulumi.unsecret(cloud.stdout.apply((id) => id.trim()));
    this.registerOutputs({ adminOpenrc: this.adminOpenrc, cloudId: this.cloudId });
  }
}
