import * as pulumi from "@pulumi/pulumi";
import type { SecretKind } from "../kolla/passwords";

/**
 * A map of random secrets, one per key, each of its kind, kept as a Pulumi secret and stable across
 * updates like @pulumi/random's RandomPassword (whose Go plugin the Go proxy here does not serve).
 * One resource for the whole map: kolla-ansible's passwords.yml has over a hundred keys. A key added
 * later gets a value; the others keep theirs; a key whose kind changes is generated again.
 */
export type SecretSpec = SecretKind | { value: unknown };

interface RandomSecretsInputs {
  kinds: Record<string, SecretSpec>;
  values?: Record<string, unknown>;
}

/** Generates every key that `previous` does not hold for the same spec. */
export function fillSecrets(kinds: Record<string, SecretSpec>, previous: RandomSecretsInputs | undefined): Record<string, unknown> {
  const crypto: typeof import("node:crypto") = require("node:crypto");
  const chars = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[crypto.randomInt(alphabet.length)]).join("");
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const sshKey = () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 4096 });
    const jwk = publicKey.export({ format: "jwk" });
    // OpenSSH's wire format: string "ssh-rsa", mpint e, mpint n (a leading zero keeps an mpint positive).
    const field = (b: Buffer) => { const len = Buffer.alloc(4); len.writeUInt32BE(b.length); return Buffer.concat([len, b]); };
    const mpint = (b64url: string) => { const b = Buffer.from(b64url, "base64url"); return field(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b); };
    const blob = Buffer.concat([field(Buffer.from("ssh-rsa")), mpint(jwk.e!), mpint(jwk.n!)]);
    return { private_key: privateKey.export({ type: "pkcs1", format: "pem" }), public_key: `ssh-rsa ${blob.toString("base64")}` };
  };
  const generate: Record<SecretKind, () => unknown> = {
    password: () => chars(letters, 40),
    uuid: () => crypto.randomUUID(),
    ssh_key: sshKey,
    hmac_md5: () => crypto.createHmac("md5", crypto.randomUUID()).update("").digest("hex"),
    fernet: () => crypto.randomBytes(32).toString("base64url") + "=",
    bcrypt_salt: () => chars(`${letters}./`, 22),
    blank: () => null,
  };
  return Object.fromEntries(Object.entries(kinds).map(([key, spec]) => {
    const kept = previous?.values && key in previous.values && JSON.stringify(previous.kinds[key]) === JSON.stringify(spec);
    if (kept) return [key, previous!.values![key]];
    return [key, typeof spec === "string" ? generate[spec]() : spec.value];
  }));
}

const randomSecretsProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RandomSecretsInputs) {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    return { id: crypto.randomUUID(), outs: { kinds: inputs.kinds, values: fillSecrets(inputs.kinds, undefined) } };
  },
  async diff(_id: string, olds: RandomSecretsInputs, news: RandomSecretsInputs) {
    return { changes: JSON.stringify(olds.kinds) !== JSON.stringify(news.kinds) };
  },
  async update(_id: string, olds: RandomSecretsInputs, news: RandomSecretsInputs) {
    return { outs: { kinds: news.kinds, values: fillSecrets(news.kinds, olds) } };
  },
};

export class RandomSecrets extends pulumi.dynamic.Resource {
  public readonly values!: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: { kinds: pulumi.Input<Record<string, SecretSpec>> }, opts?: pulumi.CustomResourceOptions) {
    super(randomSecretsProvider, name, { ...args, values: undefined }, {
      ...opts,
      additionalSecretOutputs: ["values"],
    }, "enos", "RandomSecrets");
  }
}
