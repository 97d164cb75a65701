import type { CheckFailure } from "@pulumi/pulumi/provider";
import { isSecret, isUnknown, plain, samePlain, secret, type WireProps, type WireValue } from "../shared/wire";

/** One input of a resource, with Terraform's schema facts that matter here. */
export interface InputSpec {
  type: "integer" | "boolean" | "string" | "map" | "list";
  required?: boolean;
  /** Filled in by check when the program leaves the input out, so that the state shows it (as upstream's does). */
  default?: number | boolean;
}

export type Inputs = WireProps;

/**
 * Validates the inputs a program sends for a resource of `token` against `specs`: unknown names, missing
 * required ones, wrong types (an integer may come as a string of digits, as the bridged provider accepts),
 * then fills the defaults. A secret input stays secret; an input not known yet (preview) is passed on
 * unchecked. Every failure names the property and what to give instead.
 */
export function checkInputs(
  token: string,
  specs: Record<string, InputSpec>,
  news: Inputs,
): { inputs: Inputs; failures: CheckFailure[] } {
  const name = token.split(":").pop();
  const failures: CheckFailure[] = Object.keys(news)
    .filter((key) => !(key in specs))
    .map((key) => ({
      property: key,
      reason: `${name} has no input "${key}"; its inputs are ${Object.keys(specs).join(", ")}`,
    }));
  const inputs: Inputs = {};
  for (const [key, spec] of Object.entries(specs)) {
    const given = news[key];
    if (given === undefined || given === null) {
      if (spec.required) failures.push({ property: key, reason: `${name}: "${key}" is required (${spec.type})` });
      else if (spec.default !== undefined) inputs[key] = spec.default;
      continue;
    }
    if (isUnknown(given)) {
      inputs[key] = given;
      continue;
    }
    const value = coerce(spec.type, plain(given));
    if (value === undefined) {
      failures.push({
        property: key,
        reason: `${name}: "${key}" must be ${article(spec.type)}, not ${JSON.stringify(plain(given))}`,
      });
      continue;
    }
    // A map or list goes on as given, so that an entry that is secret stays so.
    if (spec.type === "map" || spec.type === "list") inputs[key] = given;
    else inputs[key] = isSecret(given) ? secret(value) : value;
  }
  return { inputs, failures };
}

function coerce(type: InputSpec["type"], value: unknown): unknown {
  switch (type) {
    case "integer":
      if (typeof value === "number" && Number.isSafeInteger(value)) return value;
      return typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
    case "boolean":
      if (typeof value === "boolean") return value;
      return value === "true" || value === "false" ? value === "true" : undefined;
    case "string":
      return typeof value === "string" ? value : undefined;
    case "map":
      return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
    case "list":
      return Array.isArray(value) ? value : undefined;
  }
}

function article(type: InputSpec["type"]): string {
  return { integer: "an integer", boolean: "a boolean", string: "a string", map: "a map", list: "a list" }[type];
}

/**
 * The inputs whose change replaces the resource: upstream, every input of every random resource forces
 * a new value. Two of Terraform's plan modifiers are kept: keepers entries whose value is null do not
 * count, and an empty overrideSpecial is the same as none. A value not known yet counts as a change.
 */
export function replacedInputs(specs: Record<string, InputSpec>, olds: Inputs, news: Inputs): string[] {
  const normal = (key: string, value: WireValue): WireValue => {
    if (key === "keepers" && value !== null && typeof value === "object" && !isSecret(value)) {
      const kept = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
      return kept.length === 0 ? undefined : Object.fromEntries(kept);
    }
    if (key === "overrideSpecial" && plain(value) === "") return undefined;
    return value ?? undefined;
  };
  return Object.keys(specs).filter(
    (key) => isUnknown(news[key]) || !samePlain(normal(key, olds[key]), normal(key, news[key])),
  );
}
