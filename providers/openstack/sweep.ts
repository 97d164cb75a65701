import * as pulumi from "@pulumi/pulumi";
import { cloudSession, type OpenStackSession, openstackCall, serviceEndpoint, stackKeys } from "./api";
import type { CloudIdentity } from "./auth";

/**
 * An engine killed while Nova builds an instance keeps it as a pending create, with no id: the next
 * destroy (Pulumi's or enos') cannot delete it and the instance outlives the experiment. So the
 * testbed makes this resource first, every cloud object of the stack carries its marker (Nova
 * metadata `enos_experiment`, a Neutron description ending in it), and everything depends on it: its
 * delete comes last and deletes what is still marked (servers, then floating IPs, routers with their
 * interfaces, ports, security groups, subnets, networks). After a clean destroy it finds nothing.
 * (A dynamic provider's code: ARCHITECTURE.md, "The serialization rule".)
 */
export interface OpenStackSweepInputs {
  /**
   * Which cloud, user and project; the secret is read when the sweep runs (a destroy after a password
   * rotation uses the new one). Absent when enos cannot read the credentials (the testbed warns): nothing is swept.
   */
  auth?: CloudIdentity;
  /** How long to wait for Nova to delete the marked servers, in seconds. */
  waitSeconds: number;
}

interface OpenStackSweepState extends OpenStackSweepInputs {
  marker: string;
}

interface Described {
  id: string;
  description?: string;
}

async function sweep(session: OpenStackSession, marker: string, waitSeconds: number): Promise<void> {
  const nova = serviceEndpoint(session, "compute", "Nova");
  const neutron = `${serviceEndpoint(session, "network", "Neutron").replace(/\/v2\.0$/, "")}/v2.0`;
  const call = <T>(service: string, method: string, url: string, body?: unknown) =>
    openstackCall<T>(session, service, method, url, body, true);

  const listed = await call<{ servers: { id: string; metadata?: Record<string, string> }[] }>(
    "Nova",
    "GET",
    `${nova}/servers/detail`,
  );
  const servers = (listed?.servers ?? []).filter((s) => s.metadata?.enos_experiment === marker);
  for (const server of servers) await call("Nova", "DELETE", `${nova}/servers/${server.id}`);
  // Nova deletes in the background; the ports are only free once the servers are gone.
  const deadline = Date.now() + waitSeconds * 1000;
  for (let left = servers; left.length > 0; ) {
    const found = await Promise.all(left.map((s) => call("Nova", "GET", `${nova}/servers/${s.id}`)));
    left = left.filter((_, i) => found[i] !== undefined);
    if (left.length && Date.now() > deadline)
      throw new Error(
        `Nova has not deleted server(s) ${left.map((s) => s.id).join(", ")} after ${waitSeconds} s; destroy again`,
      );
    if (left.length) await new Promise((resolve) => setTimeout(resolve, 2000));
  }

  const marked = async (collection: string) => {
    const body = await call<Record<string, Described[]>>("Neutron", "GET", `${neutron}/${collection}`);
    return (body?.[collection.replace(/-/g, "_")] ?? []).filter((o) => (o.description ?? "").endsWith(marker));
  };
  for (const ip of await marked("floatingips")) await call("Neutron", "DELETE", `${neutron}/floatingips/${ip.id}`);
  for (const router of await marked("routers")) {
    const ports = await call<{ ports: { id: string; device_owner: string }[] }>(
      "Neutron",
      "GET",
      `${neutron}/ports?device_id=${router.id}`,
    );
    for (const port of (ports?.ports ?? []).filter((p) => p.device_owner.startsWith("network:router_interface"))) {
      await call("Neutron", "PUT", `${neutron}/routers/${router.id}/remove_router_interface`, { port_id: port.id });
    }
    await call("Neutron", "DELETE", `${neutron}/routers/${router.id}`);
  }
  for (const collection of ["ports", "security-groups", "subnets", "networks"]) {
    for (const object of await marked(collection))
      await call("Neutron", "DELETE", `${neutron}/${collection}/${object.id}`);
  }
}

const keys = stackKeys();

export const sweepProvider: pulumi.dynamic.ResourceProvider = {
  configure: keys.configure,
  async create(inputs: OpenStackSweepInputs) {
    const marker = crypto.randomUUID();
    return { id: marker, outs: { ...inputs, marker } };
  },
  async diff(_id: string, olds: OpenStackSweepState, news: OpenStackSweepInputs) {
    return { changes: JSON.stringify([olds.auth, olds.waitSeconds]) !== JSON.stringify([news.auth, news.waitSeconds]) };
  },
  async update(_id: string, olds: OpenStackSweepState, news: OpenStackSweepInputs) {
    return { outs: { ...news, marker: olds.marker } };
  },
  async delete(_id: string, props: OpenStackSweepState) {
    // A create that was in flight (recoverInterruptedUpdate keeps it without outputs) marked nothing,
    // and an undefined marker would match every server that has none.
    if (props.auth && props.marker)
      await sweep(await cloudSession(props.auth, keys.get), props.marker, props.waitSeconds);
  },
};

export class OpenStackSweep extends pulumi.dynamic.Resource {
  /** What marks the stack's objects (a UUID). */
  public readonly marker!: pulumi.Output<string>;

  constructor(
    name: string,
    args: { [K in keyof OpenStackSweepInputs]: pulumi.Input<OpenStackSweepInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      sweepProvider,
      name,
      { ...args, marker: undefined },
      { ...opts, additionalSecretOutputs: ["auth"] },
      "enos",
      "OpenStackSweep",
    );
  }
}
