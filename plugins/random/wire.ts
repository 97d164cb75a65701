import { isDeepStrictEqual } from "node:util";
import { isRpcSecret, specialSecretSig, specialSigKey, unknownValue, unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";

/**
 * Property values as the engine sends them to a provider that accepts secrets: plain JSON, except that a
 * secret is an object tagged with Pulumi's signature key, and a value not known yet (a preview whose
 * input comes from another resource) is a sentinel string. A value may hold either anywhere inside it.
 */
export type WireValue = unknown;

export function secret(value: unknown): WireValue {
  return { [specialSigKey]: specialSecretSig, value };
}

export function isSecret(value: WireValue): boolean {
  return isRpcSecret(value);
}

export function isUnknown(value: WireValue): boolean {
  if (value === unknownValue) return true;
  if (isRpcSecret(value)) return isUnknown(unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

/** The value with every secret tag removed (for generating and comparing, never for the state). */
export function plain(value: WireValue): unknown {
  if (isRpcSecret(value)) return plain(unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Whether two wire values hold the same plain value (becoming secret is not a change of value). */
export function samePlain(a: WireValue, b: WireValue): boolean {
  return isDeepStrictEqual(plain(a), plain(b));
}
