import { createHash, randomBytes } from "node:crypto";

/** A source of random bytes: the CSPRNG, or a stream fixed by a seed. */
export type ByteSource = (count: number) => Buffer;

/**
 * The bytes a seed stands for: SHA-256 of the seed and a counter, block after block. Upstream feeds the
 * seed to Go's math/rand, so a seeded result here is stable for its seed but not the number Terraform
 * would give for that seed.
 */
export function sourceFor(seed: string | undefined): ByteSource {
  if (seed === undefined || seed === "") return randomBytes;
  let counter = 0;
  let buffered = Buffer.alloc(0);
  return (count) => {
    while (buffered.length < count) {
      buffered = Buffer.concat([buffered, createHash("sha256").update(seed).update(String(counter++)).digest()]);
    }
    const out = buffered.subarray(0, count);
    buffered = buffered.subarray(count);
    return out;
  };
}

/** A uniform integer in [0, bound), by rejection sampling (no modulo bias), for any bound BigInt allows. */
export function uniformBelow(bound: bigint, source: ByteSource): bigint {
  if (bound <= 0n) throw new Error(`uniformBelow needs a positive bound, got ${bound}`);
  const bytes = Math.max(1, Math.ceil(bound.toString(2).length / 8));
  const span = 1n << BigInt(bytes * 8);
  const limit = span - (span % bound);
  for (;;) {
    const drawn = BigInt(`0x${source(bytes).toString("hex")}`);
    if (drawn < limit) return drawn % bound;
  }
}
