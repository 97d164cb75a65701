import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { PROJECT_DIR } from "../../config/paths";

/** The keys of Pulumi.kolla.yaml that name files (relative to the project directory). */
interface KollaStackFiles {
  provider: Record<string, unknown>;
  registry: { images: string; store: string };
  init_image: string;
  patches: { src: string }[];
  kolla: { node_custom_config: string };
  workload: string;
}

/** The parts of the kolla workload's run.yml that name files. */
interface RallyRunFile {
  rally: { scenarios: { file: string; args?: { image_location?: string } }[] };
}

/**
 * The kolla stack's configuration (Pulumi.kolla.yaml) for a stack of its own in `dir` on other subnets: its
 * files by absolute paths, its workload's run.yml written into `dir` with absolute paths too (Rally runs in
 * the experiment's directory, and its image is a task argument, not a path enos resolves).
 */
export function kollaStackConfig(
  dir: string,
  subnets: { api_cidr: string; external_cidr: string },
): Record<string, unknown> {
  const stackFile = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.kolla.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const config = Object.fromEntries(
    Object.entries(stackFile.config).map(([key, value]) => [key.replace(/^enos:/, ""), value]),
  ) as KollaStackFiles & Record<string, unknown>;
  const inProject = (file: string) => path.resolve(PROJECT_DIR, file);
  const workloadDir = inProject(config.workload);
  const runYml = yaml.load(fs.readFileSync(path.join(workloadDir, "run.yml"), "utf8")) as RallyRunFile;
  for (const scenario of runYml.rally.scenarios) {
    scenario.file = path.resolve(workloadDir, scenario.file);
    if (scenario.args?.image_location) scenario.args.image_location = inProject(scenario.args.image_location);
  }
  const workload = path.join(dir, "workload");
  fs.mkdirSync(workload, { recursive: true });
  fs.writeFileSync(path.join(workload, "run.yml"), yaml.dump(runYml));
  return {
    ...config,
    provider: { ...config.provider, ...subnets },
    registry: {
      ...config.registry,
      images: inProject(config.registry.images),
      store: inProject(config.registry.store),
    },
    init_image: inProject(config.init_image),
    patches: config.patches.map((patch) => ({ ...patch, src: inProject(patch.src) })),
    kolla: { ...config.kolla, node_custom_config: inProject(config.kolla.node_custom_config) },
    workload,
  };
}
