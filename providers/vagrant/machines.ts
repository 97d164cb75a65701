import * as pulumi from "@pulumi/pulumi";
import { privateDir } from "../../config/files";
import { parseSshConfig } from "./render";

/**
 * The machines of a Vagrantfile: create writes it into the stack's directory and runs `vagrant up`,
 * an update rewrites it, destroys the machines no longer in it and brings the rest up, delete runs
 * `vagrant destroy -f` and removes the directory. What `vagrant ssh-config` says of each machine's
 * key is kept. (A dynamic provider's code: ARCHITECTURE.md, "The serialization rule".)
 */
export interface VagrantMachinesInputs {
  dir: string;
  vagrantfile: string;
  backend: "virtualbox" | "libvirt";
  names: string[];
}

export interface VagrantMachinesOutputs extends VagrantMachinesInputs {
  /** Machine name -> private key vagrant logs in with. */
  keys: Record<string, string>;
}

/** Runs vagrant in `dir`; rejects with the tail of its output. */
export async function vagrant(dir: string, args: string[]): Promise<string> {
  const { execFile }: typeof import("node:child_process") = require("node:child_process");
  return new Promise((resolve, reject) =>
    execFile(
      "vagrant",
      args,
      { cwd: dir, maxBuffer: 64 * 2 ** 20, env: { ...process.env, VAGRANT_CWD: dir } },
      (error, stdout, stderr) =>
        error
          ? reject(
              new Error(
                `vagrant ${args.join(" ")} failed in ${dir}:\n${(stderr.trim() || stdout.trim()).split("\n").slice(-20).join("\n")}`,
              ),
            )
          : resolve(stdout),
    ),
  );
}

export async function vagrantUp(
  inputs: VagrantMachinesInputs,
  removed: string[] = [],
): Promise<VagrantMachinesOutputs> {
  const fs: typeof import("node:fs") = require("node:fs");
  const path: typeof import("node:path") = require("node:path");
  // Vagrant writes each machine's private key under it.
  privateDir(inputs.dir);
  // Machines leaving the file are destroyed while the old file still defines them.
  if (removed.length) await vagrant(inputs.dir, ["destroy", "-f", ...removed]);
  fs.writeFileSync(path.join(inputs.dir, "Vagrantfile"), inputs.vagrantfile);
  await vagrant(inputs.dir, ["up", `--provider=${inputs.backend}`]);
  const keys = parseSshConfig(await vagrant(inputs.dir, ["ssh-config"]));
  const missing = inputs.names.filter((n) => !keys[n]);
  if (missing.length) throw new Error(`vagrant ssh-config says nothing of ${missing.join(", ")}`);
  return { ...inputs, keys };
}

export async function vagrantDestroy(props: VagrantMachinesInputs): Promise<void> {
  const fs: typeof import("node:fs") = require("node:fs");
  if (fs.existsSync(props.dir)) {
    await vagrant(props.dir, ["destroy", "-f"]);
    fs.rmSync(props.dir, { recursive: true, force: true });
  }
}

const machinesProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: VagrantMachinesInputs) {
    return { id: inputs.dir, outs: await vagrantUp(inputs) };
  },
  async diff(_id: string, olds: VagrantMachinesOutputs, news: VagrantMachinesInputs) {
    const replaces = (["dir", "backend"] as const).filter((k) => olds[k] !== news[k]);
    return {
      changes: replaces.length > 0 || olds.vagrantfile !== news.vagrantfile,
      replaces,
      deleteBeforeReplace: true,
    };
  },
  async update(_id: string, olds: VagrantMachinesOutputs, news: VagrantMachinesInputs) {
    return {
      outs: await vagrantUp(
        news,
        olds.names.filter((n) => !news.names.includes(n)),
      ),
    };
  },
  async delete(_id: string, props: VagrantMachinesOutputs) {
    await vagrantDestroy(props);
  },
};

export class VagrantMachines extends pulumi.dynamic.Resource {
  public readonly keys!: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: VagrantMachinesInputs, opts?: pulumi.CustomResourceOptions) {
    super(machinesProvider, name, { ...args, keys: undefined }, opts, "enos", "VagrantMachines");
  }
}
