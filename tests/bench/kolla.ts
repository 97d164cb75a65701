import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { PROJECT_DIR } from "../../config/paths";
import { cleanUp, leftovers, testExperiment } from "../support/harness";
import { kollaStackConfig } from "../support/kolla-stack";

export interface KollaBench {
  /** kolla/images/build --output kolla/images: a build, or the cached set's link. */
  imagesSeconds: number;
  imagesCached: boolean;
  /** The kolla stack's up from nothing with the images built: deploy, init, Rally. */
  upSeconds: number;
  /** Seconds of each step of that up, as Pulumi reports them ("kolla-deploy created (Ns)"). */
  steps: Record<string, number>;
  noOpUpSeconds: number;
  noOpChanges: number;
  destroySeconds: number;
  leftovers: number;
}

const seconds = (start: number) => (performance.now() - start) / 1000;

/** The kolla stack (Pulumi.kolla.yaml) on subnets of its own: images, up from nothing, no-op re-up, destroy. */
export async function benchKolla(): Promise<KollaBench> {
  let start = performance.now();
  const build = spawnSync(path.join(PROJECT_DIR, "kolla", "images", "build"), ["--output", "kolla/images"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (build.status !== 0) throw new Error(`kolla/images/build failed:\n${build.stdout}`);
  const imagesSeconds = seconds(start);
  const name = `bench${process.pid}k`;
  const experiment = await testExperiment(name, {});
  try {
    await experiment.setConfig(
      kollaStackConfig(experiment.dir, { api_cidr: "10.198.0.0/24", external_cidr: "10.199.0.0/24" }),
    );
    start = performance.now();
    const up = await experiment.stack.up({ parallel: 64 });
    const upSeconds = seconds(start);
    const steps = Object.fromEntries(
      [...up.stdout.matchAll(/Command (kolla-[a-z-]+|init|benchmark[a-z-]*) created \((\d+)s\)/g)].map(
        ([, step, s]) => [step, Number(s)],
      ),
    );
    start = performance.now();
    const again = await experiment.stack.up({ parallel: 64 });
    const noOpUpSeconds = seconds(start);
    const noOpChanges = Object.entries(again.summary.resourceChanges ?? {})
      .filter(([op]) => op !== "same")
      .reduce((sum, [, count]) => sum + count, 0);
    start = performance.now();
    await experiment.stack.destroy({ parallel: 64 });
    const destroySeconds = seconds(start);
    return {
      imagesSeconds,
      imagesCached: /images: cached /.test(build.stdout),
      upSeconds,
      steps,
      noOpUpSeconds,
      noOpChanges,
      destroySeconds,
      leftovers: leftovers(name, experiment.stateDir).filter((l) => !l.startsWith("file")).length,
    };
  } finally {
    await cleanUp(experiment);
  }
}
