/**
 * The property values the engine sends and keeps. The provider server hands them over as raw protobuf
 * structs: secrets arrive as signature-tagged objects and unknowns (preview) as a sentinel string, so
 * this module reveals them for running and tags outputs again for the state.
 */

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
export type Props = { [key: string]: Value };

// The wire form of a secret and of an unknown value (sdk/go/common/resource/plugin/rpc.go).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function isSecret(value: Value): value is { [key: string]: Value } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && value[SIG_KEY] === SECRET_SIG;
}

export function secret(value: Value): Value {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** The value with every secret wrapper removed, and whether there was one. */
export function reveal(value: Value): { value: Value; secret: boolean } {
  if (isSecret(value)) return { value: reveal(value.value ?? null).value, secret: true };
  if (Array.isArray(value)) {
    const items = value.map(reveal);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as { [key: string]: Value }).map(([k, v]) => [k, reveal(v)] as const);
    return {
      value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])),
      secret: entries.some(([, v]) => v.secret),
    };
  }
  return { value, secret: false };
}

/**
 * Every string held in a secret, at any depth, and each line of a multi-line one (a private key
 * printed by `cat` reaches the log line by line).
 */
export function secretStrings(value: Value, inSecret = false): string[] {
  if (isSecret(value)) return secretStrings(value.value ?? null, true);
  if (typeof value === "string") return inSecret ? [value, ...value.split("\n").map((line) => line.trim())] : [];
  if (Array.isArray(value)) return value.flatMap((item) => secretStrings(item, inSecret));
  if (typeof value === "object" && value !== null) {
    return Object.values(value as Props).flatMap((item) => secretStrings(item, inSecret));
  }
  return [];
}

/** Typed reads of revealed properties; a wrong type is the user's mistake and names the property. */
export class Reader {
  constructor(private readonly props: Props, private readonly where: string) {}

  private fail(key: string, expected: string): never {
    throw new Error(`${this.where}: property "${key}" must be ${expected}, got ${JSON.stringify(this.props[key])}`);
  }

  string(key: string): string | undefined {
    const v = this.props[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === "string" ? v : this.fail(key, "a string");
  }

  number(key: string): number | undefined {
    const v = this.props[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === "number" ? v : this.fail(key, "a number");
  }

  boolean(key: string): boolean | undefined {
    const v = this.props[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === "boolean" ? v : this.fail(key, "a boolean");
  }

  strings(key: string): string[] | undefined {
    const v = this.props[key];
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : this.fail(key, "a list of strings");
  }

  stringMap(key: string): Record<string, string> | undefined {
    const v = this.props[key];
    if (v === undefined || v === null) return undefined;
    const ok = typeof v === "object" && !Array.isArray(v) && Object.values(v).every((s) => typeof s === "string");
    return ok ? (v as Record<string, string>) : this.fail(key, "a map of strings");
  }

  object(key: string): Reader | undefined {
    const v = this.props[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === "object" && !Array.isArray(v) ? new Reader(v, `${this.where}.${key}`) : this.fail(key, "an object");
  }
}
