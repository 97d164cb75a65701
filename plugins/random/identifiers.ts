import * as crypto from "node:crypto";
import type { CheckFailure } from "@pulumi/pulumi/provider";
import type { Inputs } from "./inputs";
import { known, type RandomKind } from "./kind";

const KEEPERS = { keepers: { type: "map" as const } };

function uuidKind(token: string, generate: () => string): RandomKind {
  return {
    token,
    inputs: KEEPERS,
    secretOutputs: [],
    create() {
      const result = generate();
      return { id: result, outputs: { result } };
    },
  };
}

/** RFC 9562 version 7: 48 bits of Unix milliseconds, then random bits with the version and variant set. */
function uuid7(): string {
  const bytes = crypto.randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const randomUuid = uuidKind("random:index/randomUuid:RandomUuid", crypto.randomUUID);
export const randomUuid4 = uuidKind("random:index/randomUuid4:RandomUuid4", crypto.randomUUID);
export const randomUuid7 = uuidKind("random:index/randomUuid7:RandomUuid7", uuid7);

function atLeastOne(key: string): (inputs: Inputs) => CheckFailure[] {
  return (inputs) => {
    const size = known(inputs, [key])?.[key];
    return typeof size === "number" && size < 1
      ? [{ property: key, reason: `${key} must be at least 1, not ${size}` }]
      : [];
  };
}

export const randomBytes: RandomKind = {
  token: "random:index/randomBytes:RandomBytes",
  inputs: { ...KEEPERS, length: { type: "integer", required: true } },
  settle: atLeastOne("length"),
  secretOutputs: ["base64", "hex"],
  create(values) {
    const bytes = crypto.randomBytes(values.length as number);
    // Upstream makes the id the base64 value, which puts the secret in plain in the state (ids cannot
    // be secret): here the id is a constant, as RandomPassword's is.
    return { id: "none", outputs: { base64: bytes.toString("base64"), hex: bytes.toString("hex") } };
  },
};

export const randomId: RandomKind = {
  token: "random:index/randomId:RandomId",
  inputs: { ...KEEPERS, byteLength: { type: "integer", required: true }, prefix: { type: "string" } },
  settle: atLeastOne("byteLength"),
  secretOutputs: [],
  create(values) {
    const bytes = crypto.randomBytes(values.byteLength as number);
    const prefix = (values.prefix as string | undefined) ?? "";
    const id = bytes.toString("base64url");
    return {
      id,
      outputs: {
        b64Url: prefix + id,
        b64Std: prefix + bytes.toString("base64"),
        hex: prefix + bytes.toString("hex"),
        dec: prefix + BigInt(`0x${bytes.toString("hex")}`).toString(),
      },
    };
  },
};
