import { addressIn } from "../../config/net";
import type { HostSlot } from "../../config/slots";
import type { TestbedNetwork } from "../../config/types";
import { testbedNetwork } from "../../config/vips";

/** Vagrant's decisions as pure functions: sizes, addresses, the Vagrantfile, `vagrant ssh-config`. */

/** Enos' Vagrant sizes: size -> cpus and memory (MiB). */
export const SIZES: Record<string, { cpus: number; memory: number }> = {
  tiny: { cpus: 1, memory: 512 },
  small: { cpus: 1, memory: 1024 },
  medium: { cpus: 2, memory: 2048 },
  big: { cpus: 3, memory: 3072 },
  large: { cpus: 4, memory: 4096 },
  "extra-large": { cpus: 6, memory: 6144 },
};

/** The two private networks (Enos' vagrant networks): eth1 on the API one, eth2 on the external one. */
export const API_CIDR = "192.168.142.0/24";
export const EXTERNAL_CIDR = "192.168.143.0/24";
const FIRST_HOST = 10;
const LAST_HOST = 199;

export interface VagrantMachine extends HostSlot {
  cpus: number;
  memory: number;
  apiIp: string;
  externalIp: string;
}

/** Slots with their size and addresses: host i gets .10+i on both networks. */
export function planMachines(slots: HostSlot[]): VagrantMachine[] {
  if (slots.length > LAST_HOST - FIRST_HOST + 1) {
    throw new Error(
      `resources: ${slots.length} vagrant machines, at most ${LAST_HOST - FIRST_HOST + 1} fit the private networks`,
    );
  }
  return slots.map((slot, i) => ({
    ...slot,
    ...SIZES[slot.bucket],
    apiIp: addressIn(API_CIDR, FIRST_HOST + i),
    externalIp: addressIn(EXTERNAL_CIDR, FIRST_HOST + i),
  }));
}

/** Kolla's VIPs at the top of the API network, its external pool after the hosts of the external one. */
export function vagrantNetwork(): TestbedNetwork {
  return testbedNetwork(
    [250, 251, 252, 253, 254].map((n) => addressIn(API_CIDR, n)),
    {
      start: addressIn(EXTERNAL_CIDR, 200),
      end: addressIn(EXTERNAL_CIDR, 249),
      cidr: EXTERNAL_CIDR,
      gateway: addressIn(EXTERNAL_CIDR, 1),
      dns: "8.8.8.8",
    },
    ["eth1", "eth2"],
  );
}

const ruby = (s: string) => JSON.stringify(s);

/**
 * One machine per slot on the chosen backend; the external network is left unconfigured (Kolla's
 * neutron takes the interface). Vagrant's key is also allowed for `user` so enos can log in as it.
 */
export function renderVagrantfile(
  machines: VagrantMachine[],
  box: string,
  backend: "virtualbox" | "libvirt",
  user: string,
): string {
  const home = user === "root" ? "/root" : `/home/${user}`;
  const lines = [
    "# Written by enos: one machine per role slot. Changes are overwritten on the next up.",
    'Vagrant.configure("2") do |config|',
    `  config.vm.box = ${ruby(box)}`,
    ...(backend === "libvirt" ? ['  config.vm.synced_folder ".", "/vagrant", disabled: true'] : []),
    '  config.vm.provision "shell", inline: <<-SHELL',
    `    mkdir -p ${home}/.ssh && cp /home/vagrant/.ssh/authorized_keys ${home}/.ssh/authorized_keys`,
    `    chown -R ${user}: ${home}/.ssh && chmod 700 ${home}/.ssh && chmod 600 ${home}/.ssh/authorized_keys`,
    "  SHELL",
  ];
  for (const m of machines) {
    lines.push(
      `  config.vm.define ${ruby(m.alias)} do |host|`,
      `    host.vm.hostname = ${ruby(m.alias)}`,
      `    host.vm.network "private_network", ip: ${ruby(m.apiIp)}`,
      `    host.vm.network "private_network", ip: ${ruby(m.externalIp)}, auto_config: false`,
      `    host.vm.provider ${ruby(backend)} do |vm|`,
      `      vm.cpus = ${m.cpus}`,
      `      vm.memory = ${m.memory}`,
      "    end",
      "  end",
    );
  }
  lines.push("end", "");
  return lines.join("\n");
}

/** `vagrant ssh-config` output -> machine name -> its IdentityFile. */
export function parseSshConfig(output: string): Record<string, string> {
  const keys: Record<string, string> = {};
  let current: string | undefined;
  for (const line of output.split("\n")) {
    const host = /^Host\s+(\S+)/.exec(line);
    if (host) current = host[1];
    const key = /^\s+IdentityFile\s+"?([^"]+?)"?\s*$/.exec(line);
    if (key && current && !keys[current]) keys[current] = key[1];
  }
  return keys;
}
