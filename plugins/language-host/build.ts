import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { stripVTControlCharacters } from "node:util";
import type * as ts from "typescript";
import { resolveFromProgram } from "./sdk";

/**
 * Builds a TypeScript program whose tsconfig asks for incremental builds into a directory of its own
 * (`incremental` or `composite`, and `outDir`): the program's own `tsc --build <tsconfig>` compiles what
 * changed (nothing when no source is newer than the last build: half a second for this project, where
 * `tsc -p` takes 5 s or more to find that out), and the JavaScript it emitted for the entry point is what
 * runs. Any other TypeScript program (no such tsconfig, no typescript package) is left to the SDK, which
 * runs its sources through ts-node as under the official host: returns undefined then.
 *
 * Throws the compiler's errors (file:line:column, the line, the message) when the program does not compile.
 */
export async function buildProgram(
  programDir: string,
  entryPoint: string,
  tsconfig = "tsconfig.json",
): Promise<string | undefined> {
  const configFile = path.resolve(programDir, tsconfig);
  let tsc: string;
  try {
    tsc = resolveFromProgram(programDir, "typescript/bin/tsc");
  } catch {
    return undefined;
  }
  if (!fs.existsSync(configFile)) return undefined;
  const typescript: typeof ts = createRequire(tsc)("typescript");
  const config = parseConfig(typescript, configFile);
  if (!config.options.outDir || !(config.options.incremental || config.options.composite)) return undefined;
  const emitted = emittedEntry(typescript, config, path.resolve(programDir, entryPoint), tsconfig);

  // --pretty: file:line:column and the offending line, as an editor shows them (colours stripped).
  const output = await new Promise<string | undefined>((resolve) => {
    // --force where the entry's output is gone but the build info is not: --build would see nothing to do.
    const args = [tsc, "--build", configFile, "--pretty", ...(fs.existsSync(emitted) ? [] : ["--force"])];
    execFile(process.execPath, args, { cwd: programDir, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve(err ? stripVTControlCharacters(`${stdout}${stderr}`).trim() || err.message : undefined);
    });
  });
  if (output !== undefined) throw new Error(`the program does not compile (tsc --build ${tsconfig}):\n\n${output}`);
  return emitted;
}

function parseConfig(typescript: typeof ts, configFile: string): ts.ParsedCommandLine {
  const problem = (d: ts.Diagnostic) => typescript.flattenDiagnosticMessageText(d.messageText, "\n");
  const config = typescript.getParsedCommandLineOfConfigFile(configFile, undefined, {
    ...typescript.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(`${configFile}: ${problem(d)}`);
    },
  });
  if (!config) throw new Error(`${configFile} cannot be read`);
  if (config.errors.length) throw new Error(`${configFile}: ${config.errors.map(problem).join("; ")}`);
  return config;
}

/** The JavaScript file emitted for the entry point: a source file, or a directory's index. */
function emittedEntry(typescript: typeof ts, config: ts.ParsedCommandLine, entry: string, tsconfig: string): string {
  const candidates = [entry, `${entry}.ts`, path.join(entry, "index.ts")].map((f) => path.normalize(f));
  const source = config.fileNames.map((f) => path.normalize(f)).find((f) => candidates.includes(f));
  if (!source) {
    throw new Error(
      `the program's main ${entry} is not one of the files ${tsconfig} compiles: ` +
        "name a .ts file in Pulumi.yaml main, and have tsconfig's files or include cover it",
    );
  }
  const outputs = typescript.getOutputFileNames(config, source, !typescript.sys.useCaseSensitiveFileNames);
  return outputs.find((f) => /\.[cm]?js$/.test(f)) as string;
}
