import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import { shellQuote } from "../../config/shell";
import type { TestbedNetwork } from "../../config/types";

/** What the init phase makes in a fresh cloud (docs/phases.md, OpenStack init). */
export interface InitOptions {
  /** The admin-openrc file of the deployment. */
  openrc: string;
  /** Where cirros comes from: an http(s) URL, or a file on this machine. */
  image: string;
  /** The testbed's external pool: the public network's subnet. */
  external: TestbedNetwork["external"];
  /** How long the smoke check's server may take to become ACTIVE, and how often it is looked at (seconds). */
  bootTimeout?: number;
  pollInterval?: number;
}

export const DEFAULT_CIRROS_URL = "https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img";
/** The init phase in one openstacksdk process (python-openstackclient would start and authenticate once per object). */
export const INIT_PY = path.join(PROJECT_DIR, "components", "init", "init.py");

/** What init.py is told: the image, the external pool, the smoke check's timing. */
export const initRequest = (o: InitOptions) => ({
  image: o.image,
  external: o.external,
  bootTimeout: o.bootTimeout ?? 300,
  pollInterval: o.pollInterval ?? 5,
});

/**
 * The bash command of the init phase: the admin-openrc's OS_* exported (openstacksdk reads them),
 * then init.py with the venv's python (`python` of `bin`), its request as a JSON argument.
 */
export function renderInitCommand(o: InitOptions, bin: string): string {
  return [
    "set -euo pipefail",
    `set -a; source ${shellQuote(o.openrc)}; set +a`,
    `exec ${shellQuote(path.join(bin, "python"))} ${shellQuote(INIT_PY)} ${shellQuote(JSON.stringify(initRequest(o)))}`,
    "",
  ].join("\n");
}
