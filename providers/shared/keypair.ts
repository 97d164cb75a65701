import * as pulumi from "@pulumi/pulumi";
import { privateDir, removeIfEmpty } from "../../config/files";

/**
 * The stack's client key pair: the private key is a Pulumi secret, and is also written 0600 to
 * `file` for ssh and Ansible; deleting the resource removes the file.
 */
interface KeyPairInputs {
  file: string;
}

const keyPairProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: KeyPairInputs) {
    const fs: typeof import("node:fs") = require("node:fs");
    const path: typeof import("node:path") = require("node:path");
    const { execFileSync }: typeof import("node:child_process") = require("node:child_process");
    // The stack's directory: its key, and the files of its hosts (their host keys), for its owner only.
    privateDir(path.dirname(inputs.file));
    fs.rmSync(inputs.file, { force: true });
    fs.rmSync(`${inputs.file}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "enos", "-f", inputs.file]);
    const privateKey = fs.readFileSync(inputs.file, "utf8");
    const publicKey = fs.readFileSync(`${inputs.file}.pub`, "utf8").trim();
    return { id: inputs.file, outs: { ...inputs, privateKey, publicKey } };
  },

  async diff(_id: string, olds: KeyPairInputs, news: KeyPairInputs) {
    const changed = olds.file !== news.file;
    return { changes: changed, replaces: changed ? ["file"] : [], deleteBeforeReplace: true };
  },

  async delete(_id: string, props: KeyPairInputs) {
    const fs: typeof import("node:fs") = require("node:fs");
    fs.rmSync(props.file, { force: true });
    fs.rmSync(`${props.file}.pub`, { force: true });
    removeIfEmpty(require("node:path").dirname(props.file));
  },
};

export class SshKeyPair extends pulumi.dynamic.Resource {
  public readonly publicKey!: pulumi.Output<string>;
  public readonly privateKey!: pulumi.Output<string>;

  constructor(name: string, args: KeyPairInputs, opts?: pulumi.CustomResourceOptions) {
    super(
      keyPairProvider,
      name,
      { ...args, publicKey: undefined, privateKey: undefined },
      { ...opts, additionalSecretOutputs: ["privateKey"] },
      "enos",
      "SshKeyPair",
    );
  }
}
