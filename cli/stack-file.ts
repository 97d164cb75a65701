import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

export const SECRET = "[secret]";

/**
 * The `enos:` keys of Pulumi.<stack>.yaml, read without the engine (for `check` and for validating
 * before an update starts). Encrypted values cannot be read here and stand as "[secret]".
 */
export function readStackFile(projectDir: string, stack: string): Record<string, unknown> {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const known = fs
      .readdirSync(projectDir)
      .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
      .map((f) => f.slice(7, -5));
    throw new Error(`no stack file ${file}; stacks of this project: ${known.join(", ") || "none"}`);
  }
  const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (!key.startsWith("enos:")) continue;
    const secure = value && typeof value === "object" && "secure" in value;
    config[key.slice("enos:".length)] = secure ? SECRET : value;
  }
  return config;
}
