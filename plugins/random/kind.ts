import type { CheckFailure } from "@pulumi/pulumi/provider";
import { isUnknown, plain } from "../shared/wire";
import type { InputSpec, Inputs } from "./inputs";

/** One resource type of @pulumi/random, as this plugin serves it. */
export interface RandomKind {
  /** The type token the SDK class registers, e.g. random:index/randomPassword:RandomPassword. */
  token: string;
  inputs: Record<string, InputSpec>;
  /** Rules across inputs, run after the defaults are filled; may settle linked inputs (number/numeric). */
  settle?(inputs: Inputs): CheckFailure[];
  /** Outputs the engine must keep secret (upstream's Sensitive attributes). */
  secretOutputs: string[];
  /** Draws the values, from the checked inputs with their secret tags removed. */
  create(values: Record<string, unknown>): { id: string; outputs: Record<string, unknown> };
}

/** The plain values of `keys`, or undefined while any of them is not known yet (rules wait for them). */
export function known<K extends string>(inputs: Inputs, keys: readonly K[]): Record<K, unknown> | undefined {
  if (keys.some((key) => isUnknown(inputs[key]))) return undefined;
  return Object.fromEntries(keys.map((key) => [key, plain(inputs[key])])) as Record<K, unknown>;
}
