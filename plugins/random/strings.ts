import type { CheckFailure } from "@pulumi/pulumi/provider";
import { bcryptHash, drawCharacters } from "./characters";
import type { InputSpec, Inputs } from "./inputs";
import { known, type RandomKind } from "./kind";

/** random_password and random_string share their inputs and defaults (Terraform's schema v3). */
const STRING_INPUTS: Record<string, InputSpec> = {
  keepers: { type: "map" },
  length: { type: "integer", required: true },
  special: { type: "boolean", default: true },
  upper: { type: "boolean", default: true },
  lower: { type: "boolean", default: true },
  // No default of their own: each takes the other's value, both true when neither is given.
  number: { type: "boolean" },
  numeric: { type: "boolean" },
  minNumeric: { type: "integer", default: 0 },
  minUpper: { type: "integer", default: 0 },
  minLower: { type: "integer", default: 0 },
  minSpecial: { type: "integer", default: 0 },
  overrideSpecial: { type: "string" },
};

const MINIMUMS = ["minUpper", "minLower", "minNumeric", "minSpecial"] as const;

function settleString(inputs: Inputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const numbers = known(inputs, ["number", "numeric"]);
  if (numbers) {
    // `number` is upstream's deprecated spelling of `numeric`: they are kept equal.
    if (numbers.number === undefined && numbers.numeric === undefined) inputs.number = inputs.numeric = true;
    else if (numbers.number === undefined) inputs.number = inputs.numeric;
    else if (numbers.numeric === undefined) inputs.numeric = inputs.number;
    else if (numbers.number !== numbers.numeric) {
      failures.push({
        property: "number",
        reason: `number (${numbers.number}) and numeric (${numbers.numeric}) differ: number is deprecated, set numeric only`,
      });
    }
  }
  const sizes = known(inputs, ["length", ...MINIMUMS]);
  if (sizes) {
    const length = sizes.length as number;
    if (length < 1) failures.push({ property: "length", reason: `length must be at least 1, not ${length}` });
    for (const key of MINIMUMS) {
      if ((sizes[key] as number) < 0)
        failures.push({ property: key, reason: `${key} must be 0 or more, not ${sizes[key]}` });
    }
    const sum = MINIMUMS.reduce((total, key) => total + (sizes[key] as number), 0);
    if (length < sum) {
      failures.push({
        property: "length",
        reason: `length (${length}) is less than minUpper + minLower + minNumeric + minSpecial (${sum}): raise length or lower the minimums`,
      });
    }
  }
  const classes = known(inputs, ["upper", "lower", "numeric", "special"]);
  if (classes && !Object.values(classes).some((enabled) => enabled === true)) {
    failures.push({
      property: "numeric",
      reason: "at least one of upper, lower, numeric, special must be true (the character set is empty)",
    });
  }
  return failures;
}

function draw(values: Record<string, unknown>): string {
  return drawCharacters({
    length: values.length as number,
    upper: values.upper as boolean,
    lower: values.lower as boolean,
    numeric: values.numeric as boolean,
    special: values.special as boolean,
    minUpper: values.minUpper as number,
    minLower: values.minLower as number,
    minNumeric: values.minNumeric as number,
    minSpecial: values.minSpecial as number,
    overrideSpecial: values.overrideSpecial as string | undefined,
  });
}

export const randomPassword: RandomKind = {
  token: "random:index/randomPassword:RandomPassword",
  inputs: STRING_INPUTS,
  settle: settleString,
  secretOutputs: ["result", "bcryptHash"],
  create(values) {
    const result = draw(values);
    // Upstream's id: a constant, so that the password never shows in plain in the state.
    return { id: "none", outputs: { result, bcryptHash: bcryptHash(result) } };
  },
};

export const randomString: RandomKind = {
  token: "random:index/randomString:RandomString",
  inputs: STRING_INPUTS,
  settle: settleString,
  secretOutputs: [],
  create(values) {
    const result = draw(values);
    // Upstream's id is the result itself: a RandomString is not secret (use RandomPassword for that).
    return { id: result, outputs: { result } };
  },
};
