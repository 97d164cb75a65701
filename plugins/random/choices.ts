import { known, type RandomKind } from "./kind";
import { type ByteSource, sourceFor, uniformBelow } from "./numbers";

export const randomInteger: RandomKind = {
  token: "random:index/randomInteger:RandomInteger",
  inputs: {
    keepers: { type: "map" },
    min: { type: "integer", required: true },
    max: { type: "integer", required: true },
    seed: { type: "string" },
  },
  settle(inputs) {
    const range = known(inputs, ["min", "max"]);
    if (range && typeof range.min === "number" && typeof range.max === "number" && range.max < range.min) {
      return [
        { property: "max", reason: `max (${range.max}) is less than min (${range.min}): max must be at least min` },
      ];
    }
    return [];
  },
  secretOutputs: [],
  create(values) {
    const min = BigInt(values.min as number);
    const max = BigInt(values.max as number);
    const result = Number(min + uniformBelow(max - min + 1n, sourceFor(values.seed as string | undefined)));
    return { id: String(result), outputs: { result } };
  },
};

/** Permutations of `items` one after the other until `count` are drawn (upstream's way past one permutation). */
function shuffled(items: unknown[], count: number, source: ByteSource): unknown[] {
  const results: unknown[] = [];
  while (results.length < count) {
    const batch = [...items];
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Number(uniformBelow(BigInt(i + 1), source));
      [batch[i], batch[j]] = [batch[j], batch[i]];
    }
    results.push(...batch.slice(0, count - results.length));
  }
  return results;
}

export const randomShuffle: RandomKind = {
  token: "random:index/randomShuffle:RandomShuffle",
  inputs: {
    keepers: { type: "map" },
    inputs: { type: "list", required: true },
    resultCount: { type: "integer" },
    seed: { type: "string" },
  },
  settle(inputs) {
    const count = known(inputs, ["resultCount"])?.resultCount;
    return typeof count === "number" && count < 0
      ? [{ property: "resultCount", reason: `resultCount must be 0 or more, not ${count}` }]
      : [];
  },
  secretOutputs: [],
  create(values) {
    const items = values.inputs as unknown[];
    const count = (values.resultCount as number | undefined) ?? items.length;
    const results = items.length === 0 ? [] : shuffled(items, count, sourceFor(values.seed as string | undefined));
    // Upstream's legacy constant id.
    return { id: "-", outputs: { results } };
  },
};
