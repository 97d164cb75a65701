import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, type ConfigProblem } from "../config/errors";
import type { PatchConfig } from "../config/schema";
import { shellQuote } from "../config/shell";
import { kollaAnsibleRelease } from "./globals";

/** A patch ready to apply: an absolute source file and a destination inside the kolla-ansible tree. */
export interface KollaPatch {
  name: string;
  src: string;
  dst: string;
  /** sha256 of the source, so that an edited patch file re-installs the copy it went into. */
  sha256: string;
}

/** Which kolla-ansible the phase runs and where it lives. */
export interface KollaAnsibleCopy {
  /** What pip installs: `kolla-ansible==X`, or `git+URL@ref` for kolla_repo/kolla_ref. */
  requirement: string;
  /** The venv holding it; its share/kolla-ansible is the tree patches apply to. */
  venv: string;
  /** Whether scripts/setup already made this venv (the default release, unpatched). */
  madeBySetup: boolean;
  patches: KollaPatch[];
}

/**
 * Enabled patches with `{{ cwd }}` replaced by the experiment directory. A `dst` written for Enos, which
 * cloned kolla-ansible into `kolla/`, starts with `kolla/`: that prefix is the tree itself.
 */
export function resolvePatches(patches: PatchConfig[], cwd: string): KollaPatch[] {
  const problems: ConfigProblem[] = [];
  const resolved = patches.flatMap((patch, i): KollaPatch[] => {
    if (!patch.enabled) return [];
    const src = patch.src.replace(/\{\{\s*cwd\s*\}\}/g, cwd);
    const dst = path.posix.normalize(patch.dst.replace(/^kolla\//, ""));
    if (!fs.existsSync(src))
      problems.push({
        path: `patches[${i}].src`,
        message: `file ${src} does not exist; fix the path ({{ cwd }} is ${cwd}) or set enabled: false`,
      });
    if (path.posix.isAbsolute(dst) || dst.startsWith(".."))
      problems.push({
        path: `patches[${i}].dst`,
        message: `${patch.dst} must be a path inside the kolla-ansible tree, e.g. ansible/roles/mariadb/tasks/start.yml`,
      });
    const sha256 = fs.existsSync(src) ? crypto.createHash("sha256").update(fs.readFileSync(src)).digest("hex") : "";
    return [{ name: patch.name, src, dst, sha256 }];
  });
  if (problems.length) throw new ConfigError(problems);
  return resolved;
}

export interface CopyInput {
  kollaRepo?: string;
  kollaRef?: string;
  globals: Record<string, unknown>;
  patches: KollaPatch[];
  /** scripts/setup's venv, which holds the default release. */
  setupVenv: string;
  setupRequirement: string;
  /** Where phase-made venvs are cached, one per requirement and patch set. */
  cacheDir: string;
}

/** 16 hex digits of the SHA-256 of `parts`: names and triggers that change exactly when the parts do. */
export const shortHash = (...parts: unknown[]) =>
  crypto.createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);

/** The kolla-ansible for this experiment: the release matching openstack_release, or the user's repo and ref. */
export function kollaAnsibleCopy(input: CopyInput): KollaAnsibleCopy {
  const requirement = input.kollaRepo
    ? `git+${input.kollaRepo}${input.kollaRef ? `@${input.kollaRef}` : ""}`
    : `kolla-ansible==${kollaAnsibleRelease(input.globals)}`;
  if (requirement === input.setupRequirement && input.patches.length === 0) {
    return { requirement, venv: input.setupVenv, madeBySetup: true, patches: [] };
  }
  return {
    requirement,
    venv: path.join(input.cacheDir, `kolla-ansible-${shortHash(requirement, input.patches)}`),
    madeBySetup: false,
    patches: input.patches,
  };
}

/** The release's passwords template inside a copy, from which passwords.yml's keys come. */
export function passwordsTemplate(copy: Pick<KollaAnsibleCopy, "venv">): string {
  return path.join(copy.venv, "share", "kolla-ansible", "etc_examples", "kolla", "passwords.yml");
}

/**
 * Makes the venv once (pip, then the patches over the installed tree), marks it complete, and prints
 * the release's passwords template, from which passwords.yml's keys come.
 */
export function renderInstallScript(copy: KollaAnsibleCopy, constraints: string): string {
  const venv = shellQuote(copy.venv);
  const tree = `${copy.venv}/share/kolla-ansible`;
  const template = shellQuote(passwordsTemplate(copy));
  if (copy.madeBySetup) {
    return `set -euo pipefail\ntest -x ${shellQuote(`${copy.venv}/bin/kolla-ansible`)} || { echo "kolla-ansible is missing from ${copy.venv}: run scripts/setup" >&2; exit 1; }\ncat ${template}\n`;
  }
  // Constraints pin ansible-core and friends for the default release only; another release brings its own. With
  // them, the `ansible` package setup's venv has: it bundles the collections kolla-ansible's roles use.
  const pinned = copy.requirement.startsWith("kolla-ansible==") ? ` ansible -c ${shellQuote(constraints)}` : "";
  return [
    "set -euo pipefail",
    `if [ ! -f ${venv}/.enos-complete ]; then`,
    `  echo "installing ${copy.requirement} into ${copy.venv}" >&2`,
    `  rm -rf ${venv} && python3 -m venv ${venv}`,
    `  ${venv}/bin/pip install -q --disable-pip-version-check ${shellQuote(copy.requirement)}${pinned} >&2`,
    ...copy.patches.map(
      (p) => `  install -D -m 0644 ${shellQuote(p.src)} ${shellQuote(`${tree}/${p.dst}`)}  # ${p.name}`,
    ),
    `  touch ${venv}/.enos-complete`,
    "fi",
    `cat ${template}`,
    "",
  ].join("\n");
}
