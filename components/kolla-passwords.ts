import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { fernetFromBase64, type SecretKind, secretKinds, uuidFromBytes } from "../kolla/passwords";
import { RsaKeyPair } from "./rsa-key-pair";

export interface KollaPasswordsArgs {
  /** The release's passwords template (etc_examples/kolla/passwords.yml of the kolla-ansible copy). */
  templateFile: string;
  /** The same template as the kolla-ansible install prints it once the copy is installed. */
  installedTemplate: pulumi.Output<string>;
}

/**
 * passwords.yml's values, one resource per key, each of the kind kolla-genpwd would make, so that a key
 * added by a new release gets a value while the others keep theirs, and each value is a secret in the
 * state. Only resources whose id is not the value (ids are plain in the state): RandomPassword for
 * passwords and bcrypt salts, RandomBytes for Fernet keys, HMAC keys and UUIDs (uuid4 is 16 random
 * bytes; the project's random plugin gives RandomBytes the id "none"), RsaKeyPair for ssh keys.
 *
 * The set of keys comes from the template. It is read at program time when the copy is on disk (the
 * setup venv, or a copy an earlier update installed): the resources then show in a preview. A copy not
 * installed yet registers them once its install has printed the template. Either way a key's resource
 * has the same name under this component, so its URN (and value) stays when the first way takes over.
 */
export class KollaPasswords extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:KollaPasswords";
  /** Every key of passwords.yml with its value; secret. */
  public readonly values: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: KollaPasswordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(KollaPasswords.__pulumiType, name, {}, opts);
    const generate = (template: string): pulumi.Output<Record<string, unknown>> => {
      const values: Record<string, pulumi.Input<unknown>> = Object.fromEntries(
        Object.entries(secretKinds(template)).map(([key, kind]) => [
          key,
          typeof kind === "string" ? this.secretOf(name, key, kind) : kind.value,
        ]),
      );
      return pulumi.secret(pulumi.all(values)).apply((all): Record<string, unknown> => all);
    };
    this.values = fs.existsSync(args.templateFile)
      ? generate(fs.readFileSync(args.templateFile, "utf8"))
      : args.installedTemplate.apply(generate);
    this.registerOutputs({ values: this.values });
  }

  private secretOf(name: string, key: string, kind: SecretKind): pulumi.Input<unknown> {
    const opts = { parent: this };
    const id = `${name}-${key}`;
    switch (kind) {
      case "password":
        return new random.RandomPassword(id, { length: 40, special: false }, opts).result;
      case "bcrypt_salt":
        // bcrypt's salt alphabet (A-Za-z0-9./), as kolla-genpwd draws it; a RandomString would do the
        // same but its id is its value, in plain in the state.
        return new random.RandomPassword(id, { length: 22, overrideSpecial: "./" }, opts).result;
      case "uuid":
        return new random.RandomBytes(id, { length: 16 }, opts).hex.apply(uuidFromBytes);
      case "hmac_md5":
        // kolla-genpwd's HMAC-MD5 of a random uuid: 16 bytes that look random, in hex.
        return new random.RandomBytes(id, { length: 16 }, opts).hex;
      case "fernet":
        return new random.RandomBytes(id, { length: 32 }, opts).base64.apply(fernetFromBase64);
      case "ssh_key": {
        const pair = new RsaKeyPair(id, { bits: 4096 }, opts);
        return pulumi.all({ private_key: pair.privateKey, public_key: pair.publicKey });
      }
      case "blank":
        return null;
    }
  }
}
