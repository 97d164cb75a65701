import type { Provider } from "@pulumi/pulumi/provider";
import type { Plugin } from "../shared/serve";
import { plain, secret, typeOf } from "../shared/wire";
import { randomInteger, randomShuffle } from "./choices";
import { randomBytes, randomId, randomUuid, randomUuid4, randomUuid7 } from "./identifiers";
import { checkInputs, type Inputs, replacedInputs } from "./inputs";
import type { RandomKind } from "./kind";
import { randomPassword, randomString } from "./strings";

const KINDS = new Map<string, RandomKind>(
  [
    randomPassword,
    randomString,
    randomUuid,
    randomUuid4,
    randomUuid7,
    randomBytes,
    randomId,
    randomInteger,
    randomShuffle,
  ].map((kind) => [kind.token, kind]),
);

function kindOf(urn: string): RandomKind {
  const token = typeOf(urn);
  const kind = KINDS.get(token);
  if (!kind) {
    throw new Error(
      `enos-pulumi's random plugin does not implement ${token} (${urn}); it implements ${[...KINDS.keys()].join(", ")}`,
    );
  }
  return kind;
}

/**
 * @pulumi/random's resources, served with upstream's contracts (terraform-provider-random): inputs with
 * Terraform's defaults, every input change replaces, results drawn once at create and kept in the state
 * (secret where upstream's are sensitive). Nothing lives outside the state, so read and delete have
 * nothing to do, and update is never needed.
 */
export function randomPlugin(version: string): Plugin {
  const provider: Provider = {
    version,
    async check(urn, _olds, news: Inputs) {
      const kind = kindOf(urn);
      const { inputs, failures } = checkInputs(kind.token, kind.inputs, news);
      return { inputs, failures: failures.length > 0 ? failures : (kind.settle?.(inputs) ?? []) };
    },
    async diff(_id, urn, olds: Inputs, news: Inputs) {
      const replaces = replacedInputs(kindOf(urn).inputs, olds, news);
      return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
    async create(urn, inputs: Inputs) {
      const kind = kindOf(urn);
      const { id, outputs } = kind.create(plain(inputs) as Record<string, unknown>);
      const tagged = Object.fromEntries(
        Object.entries(outputs).map(([key, value]) => [key, kind.secretOutputs.includes(key) ? secret(value) : value]),
      );
      // The inputs go back as they came, secret tags included, so that a secret keeper stays secret.
      return { id, outs: { ...inputs, ...tagged } };
    },
    async delete() {},
  };
  return { provider };
}
