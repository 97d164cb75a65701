import * as pulumi from "@pulumi/pulumi";

/**
 * An SSH key pair made in memory, kept only in the state as secrets: @pulumi/random has no key pairs.
 * RSA like kolla-genpwd's (its ssh keys are 4096-bit RSA: a PKCS#1 PEM private key and an OpenSSH public
 * key), so that a passwords.yml made here reads like one kolla-genpwd made.
 */
interface RsaKeyPairInputs {
  bits: number;
}

export function rsaKeyPair(bits: number): { privateKey: string; publicKey: string } {
  const crypto: typeof import("node:crypto") = require("node:crypto");
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: bits });
  const jwk = publicKey.export({ format: "jwk" });
  // OpenSSH's wire format: string "ssh-rsa", mpint e, mpint n (a leading zero keeps an mpint positive).
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const mpint = (b64url: string) => {
    const b = Buffer.from(b64url, "base64url");
    return field(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  };
  const blob = Buffer.concat([field(Buffer.from("ssh-rsa")), mpint(jwk.e!), mpint(jwk.n!)]);
  return {
    privateKey: String(privateKey.export({ type: "pkcs1", format: "pem" })),
    publicKey: `ssh-rsa ${blob.toString("base64")}`,
  };
}

const rsaKeyPairProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RsaKeyPairInputs) {
    return { id: "none", outs: { ...inputs, ...rsaKeyPair(inputs.bits) } };
  },
  async diff(_id: string, olds: RsaKeyPairInputs, news: RsaKeyPairInputs) {
    const changed = olds.bits !== news.bits;
    return { changes: changed, replaces: changed ? ["bits"] : [] };
  },
};

export class RsaKeyPair extends pulumi.dynamic.Resource {
  public readonly privateKey!: pulumi.Output<string>;
  public readonly publicKey!: pulumi.Output<string>;

  constructor(name: string, args: RsaKeyPairInputs, opts?: pulumi.CustomResourceOptions) {
    super(
      rsaKeyPairProvider,
      name,
      { ...args, privateKey: undefined, publicKey: undefined },
      { ...opts, additionalSecretOutputs: ["privateKey", "publicKey"] },
      "enos",
      "RsaKeyPair",
    );
  }
}
