import * as pulumi from "@pulumi/pulumi";

/**
 * A random password kept as a Pulumi secret and stable across updates, like @pulumi/random's
 * RandomPassword (whose Go plugin the Go proxy here does not serve). Changing `length` or `keepers`
 * makes a new one.
 */
export interface RandomPasswordArgs {
  length: number;
  /** Any change here generates a new password. */
  keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const passwordProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { length: number; keepers?: Record<string, string> }) {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    // Letters and digits only: these values end up in YAML, INI and shell files.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const result = Array.from({ length: inputs.length }, () => alphabet[crypto.randomInt(alphabet.length)]).join("");
    return { id: crypto.randomUUID(), outs: { ...inputs, result } };
  },
  async diff(_id: string, olds: RandomPasswordArgs, news: RandomPasswordArgs) {
    const replace = olds.length !== news.length || JSON.stringify(olds.keepers ?? {}) !== JSON.stringify(news.keepers ?? {});
    return { changes: replace, replaces: replace ? ["length", "keepers"] : [] };
  },
};

export class RandomPassword extends pulumi.dynamic.Resource {
  public readonly result!: pulumi.Output<string>;

  constructor(name: string, args: RandomPasswordArgs, opts?: pulumi.CustomResourceOptions) {
    super(passwordProvider, name, { ...args, result: undefined }, {
      ...opts,
      additionalSecretOutputs: ["result"],
    }, "enos", "RandomPassword");
  }
}
