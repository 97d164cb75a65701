import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { PROJECT_DIR } from "../../config/paths";

/** The keys of Pulumi.kolla.yaml that name files (relative to the project directory). */
interface KollaStackFiles {
  provider: Record<string, unknown>;
  registry: { images: string };
  init_image: string;
  patches: { src: string }[];
  kolla: { node_custom_config: string };
  workload: string;
}

/**
 * The kolla stack's configuration (Pulumi.kolla.yaml) for a stack of its own in `dir` on other subnets: its
 * files by absolute paths, and the workloads copied into `dir`, Rally's image named by its absolute path
 * (Rally runs in the experiment's directory).
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
  // The workloads directory whole: the kolla workload names the dev cloud's scenario files as ../dev-cloud/.
  fs.cpSync(path.join(PROJECT_DIR, "workloads"), path.join(dir, "workloads"), { recursive: true });
  const workload = path.join(dir, config.workload);
  const runYml = path.join(workload, "run.yml");
  fs.writeFileSync(
    runYml,
    fs.readFileSync(runYml, "utf8").replace(/image_location: (\S+)/, (_, file) => `image_location: ${inProject(file)}`),
  );
  return {
    ...config,
    provider: { ...config.provider, ...subnets },
    registry: { ...config.registry, images: inProject(config.registry.images) },
    init_image: inProject(config.init_image),
    patches: config.patches.map((patch) => ({ ...patch, src: inProject(patch.src) })),
    kolla: { ...config.kolla, node_custom_config: inProject(config.kolla.node_custom_config) },
    workload,
  };
}
