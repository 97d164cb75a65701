import { isDeepStrictEqual } from "node:util";
import {
  isRpcSecret,
  specialSecretSig,
  specialSigKey,
  unknownValue,
  unwrapRpcSecret,
} from "@pulumi/pulumi/runtime/rpc";

/**
 * Property values as the engine sends them to a provider that accepts secrets: plain JSON, except that a
 * secret is an object tagged with Pulumi's signature key, and a value not known yet (a preview whose
 * input comes from another resource) is a sentinel string. A value may hold either anywhere inside it.
 */
export type WireValue = unknown;
export type WireProps = Record<string, WireValue>;

export function secret(value: unknown): WireValue {
  return { [specialSigKey]: specialSecretSig, value };
}

export function isSecret(value: WireValue): boolean {
  return isRpcSecret(value);
}

/** Whether a secret is anywhere in the value. */
export function holdsSecret(value: WireValue): boolean {
  if (isRpcSecret(value)) return true;
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value !== null && typeof value === "object") return Object.values(value).some(holdsSecret);
  return false;
}

export function isUnknown(value: WireValue): boolean {
  if (value === unknownValue) return true;
  if (isRpcSecret(value)) return isUnknown(unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

/** The value with every secret tag removed (for running, generating and comparing; never for the state). */
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

/**
 * Every string held in a secret, at any depth, and each line of a multi-line one (a private key
 * printed by `cat` reaches a log line by line).
 */
export function secretStrings(value: WireValue, inSecret = false): string[] {
  if (isRpcSecret(value)) return secretStrings(unwrapRpcSecret(value), true);
  if (typeof value === "string") return inSecret ? [value, ...value.split("\n").map((line) => line.trim())] : [];
  if (Array.isArray(value)) return value.flatMap((item) => secretStrings(item, inSecret));
  if (value !== null && typeof value === "object") {
    return Object.values(value).flatMap((item) => secretStrings(item, inSecret));
  }
  return [];
}

/** The resource type in a URN (urn:pulumi:stack::project::parent$type::name), whatever its parent types. */
export function typeOf(urn: string): string {
  return urn.split("::")[2]?.split("$").pop() ?? "";
}
