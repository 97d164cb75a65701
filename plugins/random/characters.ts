import { randomInt } from "node:crypto";
import * as bcrypt from "bcryptjs";

/** Terraform's random_string/random_password character classes (internal/random/string.go). */
export const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const LOWER = "abcdefghijklmnopqrstuvwxyz";
export const NUMERIC = "0123456789";
export const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

export interface StringParams {
  length: number;
  upper: boolean;
  lower: boolean;
  numeric: boolean;
  special: boolean;
  minUpper: number;
  minLower: number;
  minNumeric: number;
  minSpecial: number;
  /** Replaces the special characters; empty or absent keeps the default ones. */
  overrideSpecial?: string;
}

export function specialCharacters(overrideSpecial: string | undefined): string {
  return overrideSpecial ? overrideSpecial : DEFAULT_SPECIAL;
}

/**
 * Terraform's algorithm: the minimum of each class first (drawn from that class even when the class is
 * switched off, as upstream does), the rest from every enabled class, then the whole shuffled. Drawn
 * with node's CSPRNG; characters are code points, so an overrideSpecial may hold any Unicode.
 */
export function drawCharacters(p: StringParams): string {
  const special = specialCharacters(p.overrideSpecial);
  const pool = `${p.upper ? UPPER : ""}${p.lower ? LOWER : ""}${p.numeric ? NUMERIC : ""}${p.special ? special : ""}`;
  if (pool === "") throw new Error("the character set is empty: enable at least one of upper, lower, numeric, special");
  const draw = (alphabet: string, count: number) => {
    const chars = Array.from(alphabet);
    return Array.from({ length: Math.max(0, count) }, () => chars[randomInt(chars.length)]);
  };
  const minimums = [
    ...draw(UPPER, p.minUpper),
    ...draw(LOWER, p.minLower),
    ...draw(NUMERIC, p.minNumeric),
    ...draw(special, p.minSpecial),
  ];
  const result = [...minimums, ...draw(pool, p.length - minimums.length)];
  for (let i = result.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result.join("");
}

/** Cost 10 is Go's bcrypt.DefaultCost, which upstream uses; like upstream, only the first 72 bytes count. */
export function bcryptHash(password: string): string {
  return bcrypt.hashSync(password, 10);
}
