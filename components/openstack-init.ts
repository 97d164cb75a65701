import * as path from "node:path";
import { local } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_DIR } from "../config/paths";
import type { TestbedNetwork } from "../config/types";
import { BASH, replacedFirst } from "./commands";
import { DEFAULT_CIRROS_URL, renderInitCommand } from "./init/script";

export interface OpenStackInitArgs {
  /**
   * Path of the deployment's admin-openrc on this machine (the Kolla phase's output). Undefined on a
   * stack without OpenStack (dev, kolla_mode check): the phase is skipped, with a note.
   */
  openrc?: pulumi.Input<string>;
  /** The testbed's network: its external pool becomes the public network's subnet. */
  network: pulumi.Input<TestbedNetwork>;
  /** cirros: an http(s) URL or a file on this machine; default cirros 0.6.2 from download.cirros-cloud.net. */
  image?: string;
  /** Values whose change re-runs init (a cloud made anew, e.g. the dev cloud's id). */
  triggers?: pulumi.Input<string>[];
}

/**
 * Initialises the cloud: role, image, flavors, security group, quotas, public and private
 * networks with a router, then a smoke check that boots and deletes one server. Every object is
 * looked up before it is created, so a changed input re-runs the same command as an update.
 */
export class OpenStackInit extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:OpenStackInit";
  /** What the smoke check said (init.py's last line); undefined when the phase is skipped. */
  public readonly smokeCheck?: pulumi.Output<string>;

  constructor(name: string, args: OpenStackInitArgs, opts?: pulumi.ComponentResourceOptions) {
    super(OpenStackInit.__pulumiType, name, {}, opts);
    if (args.openrc === undefined) {
      pulumi.log.info("init: skipped: this stack has no OpenStack (kolla_mode check, or no deployment)", this);
    } else {
      const bin = path.join(PROJECT_DIR, ".venv", "bin");
      const command = pulumi
        .all([args.openrc, args.network])
        .apply(([openrc, network]) =>
          renderInitCommand({ openrc, image: args.image ?? DEFAULT_CIRROS_URL, external: network.external }, bin),
        );
      const init = new local.Command(
        name,
        { create: command, update: command, interpreter: BASH, triggers: args.triggers },
        replacedFirst({ parent: this }),
      );
      this.smokeCheck = init.stdout.apply((output) => (output ?? "").trim().split("\n").pop() ?? "");
    }
    this.registerOutputs({ smokeCheck: this.smokeCheck });
  }
}
