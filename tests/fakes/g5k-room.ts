import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import type { KernelFacts } from "../../config/kernel";
import { cleanUp, recordOf, type TestExperiment, testExperiment } from "../support/harness";
import { FakeDns } from "./dns";
import type { FakeMachine } from "./g5k";

export interface RoomHost {
  alias: string;
  address: string;
  ips: string[];
  kernel: KernelFacts;
}

/**
 * The machines behind a fake Grid'5000: hosts of a local testbed (namespaces with their own sshd),
 * machine i answering to the nodes `nodesOf[i]` by their production and KaVLAN names, and the
 * engine that resolves those names.
 */
export interface MachineRoom {
  /** Node name -> its machine, for FakeG5k's `machines`. */
  machines: Record<string, FakeMachine>;
  /** Node name -> the local host standing for it. */
  hostOf: Record<string, RoomHost>;
  dns: FakeDns;
  /** The Pulumi CLI to give the g5k stacks (testExperiment's engine option). */
  engine: PulumiCommand;
  close(): Promise<void>;
}

export async function machineRoom(
  name: string,
  cidrs: [string, string],
  nodesOf: string[][],
  kavlan: string,
): Promise<MachineRoom> {
  const room: TestExperiment = await testExperiment(name, {
    provider: { type: "local", api_cidr: cidrs[0], external_cidr: cidrs[1] },
    resources: { control: 1, network: 1, compute: nodesOf.length - 2 },
  });
  const dnsDir = fs.mkdtempSync(path.join(os.tmpdir(), "enos-g5k-dns-"));
  const close = async () => {
    await cleanUp(room);
    fs.rmSync(dnsDir, { recursive: true, force: true });
  };
  try {
    await room.stack.up({ parallel: 64 });
    const hosts: RoomHost[] = (await recordOf(room.stack)).hosts;
    const hostOf = Object.fromEntries(nodesOf.flatMap((nodes, i) => nodes.map((node) => [node, hosts[i]])));
    const machines = Object.fromEntries(
      Object.entries(hostOf).map(([node, host]) => [
        node,
        { dir: path.join(room.stateDir, room.name, "local", "hosts", host.alias), address: host.address },
      ]),
    );
    const kavlanName = (node: string) => node.replace(/^([^.]+)/, `$1-kavlan-${kavlan}`);
    const dns = new FakeDns(
      dnsDir,
      Object.fromEntries(
        Object.entries(hostOf).flatMap(([node, host]) => [
          [node, host.address],
          [kavlanName(node), host.address],
        ]),
      ),
    );
    return { machines, hostOf, dns, engine: await dns.pulumiCommand(), close };
  } catch (error) {
    await close();
    throw error;
  }
}
