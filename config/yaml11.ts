import * as yaml from "js-yaml";

/**
 * Enos read its files with PyYAML, i.e. YAML 1.1: yes/no/on/off (PyYAML leaves y/n alone) are booleans, and a key
 * given twice keeps its last value. js-yaml speaks YAML 1.2, so we add 1.1's booleans and let
 * duplicate keys override (`json: true`), so that a researcher's reservation.yaml loads unchanged.
 */
const TRUE = ["yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"];
const FALSE = ["no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"];

const yaml11Bool = new yaml.Type("tag:yaml.org,2002:bool", {
  kind: "scalar",
  resolve: (data: string) => TRUE.includes(data) || FALSE.includes(data),
  construct: (data: string) => TRUE.includes(data),
  predicate: (object: unknown) => typeof object === "boolean",
  represent: { lowercase: (object: object) => (object ? "true" : "false") },
  defaultStyle: "lowercase",
});

// js-yaml's default schema with 1.1's booleans instead of 1.2's; timestamps stay strings (dates such
// as a g5k reservation start are passed on as written), merge keys (`<<: *anchor`) are kept.
const replaced = new Set(["tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"]);
type TaggedType = yaml.Type & { tag: string };
const schema = yaml.DEFAULT_SCHEMA as unknown as { compiledImplicit: TaggedType[]; compiledExplicit: TaggedType[] };
const YAML11_SCHEMA = new yaml.Schema({
  implicit: [yaml11Bool, ...schema.compiledImplicit.filter((t) => !replaced.has(t.tag))],
  explicit: schema.compiledExplicit,
});

/** What an unquoted scalar read as `value` was (for messages), and the word most likely meant. */
export function booleanSpellings(value: boolean): { words: string; likely: string } {
  return value ? { words: "yes, on or true", likely: "on" } : { words: "no, off or false", likely: "off" };
}

export function loadYaml11(text: string, filename?: string): unknown {
  return yaml.load(text, { schema: YAML11_SCHEMA, json: true, filename });
}
