import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { PROJECT_DIR } from "../../../../config/paths";
import { installedOpenStackSchema } from "../../../support/openstack-schema";

/** The project's sources (not its tests, builds or dependencies). */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory())
      return ["node_modules", "dist", "tests", ".pulumi-state", ".git"].includes(entry.name) ||
        entry.name.startsWith(".venv")
        ? []
        : sources(file);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [file] : [];
  });
}

/**
 * The type token of an @pulumi/openstack member: a class's own, or the one a function invokes (xOutput invokes x's).
 */
function tokenOf(module: string, member: string): string {
  const sdk = require("@pulumi/openstack") as Record<
    string,
    Record<string, { __pulumiType?: string; toString(): string }>
  >;
  const value = sdk[module]?.[member.replace(/Output$/, "")];
  assert.ok(value, `openstack.${module}.${member} is not in @pulumi/openstack`);
  const token = value.__pulumiType ?? /"(openstack:[^"]+)"/.exec(value.toString())?.[1];
  assert.ok(token, `no type token found for openstack.${module}.${member}`);
  return token;
}

test("every @pulumi/openstack class and function the project uses is mapped by the installed openstack plugin", () => {
  const used = new Map<string, string>(); // token -> where
  for (const file of sources(PROJECT_DIR)) {
    const text = fs.readFileSync(file, "utf8");
    if (!/from "@pulumi\/openstack"/.test(text)) continue;
    for (const [, module, member] of text.matchAll(/\bopenstack\.(\w+)\.(\w+)\b/g)) {
      used.set(tokenOf(module, member), `${path.relative(PROJECT_DIR, file)}: openstack.${module}.${member}`);
    }
  }
  assert.ok(
    [...used.values()].some((where) => where.startsWith("providers/openstack/")),
    "the openstack testbed's uses were found",
  );
  const schema = installedOpenStackSchema();
  const unmapped = [...used]
    .filter(([token]) => !schema.resources[token] && !schema.functions[token])
    .map(([token, where]) => `${where} (${token})`);
  assert.deepEqual(
    unmapped,
    [],
    "used but not mapped by the plugin (Terraform OpenStack v3 dropped them: see plugins/openstack)",
  );
});
