import type * as pulumi from "@pulumi/pulumi";
import type { Experiment } from "../../components/experiment";
import { loadExperiment } from "../../config/load";
import { PROJECT_DIR } from "../../config/paths";

/** The SDK's own wait for every pending registration (exported by its runtime, not in its typings). */
export const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** An output's value, once the mocks have given it. */
export const settled = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

/**
 * The experiment program for a stack's `config` with its state in `stateDir`, under the mocks the test
 * file set (the component is imported after them), once every resource it registers is registered.
 */
export async function mockedExperiment(
  stack: string,
  config: Record<string, unknown>,
  stateDir = `/tmp/enos-${stack}`,
): Promise<Experiment> {
  const { Experiment } = await import("../../components/experiment");
  const experiment = new Experiment("experiment", {
    config: loadExperiment({ stack: config, baseDir: PROJECT_DIR }),
    stack,
    stateDir,
    resultsDir: `${stateDir}/results`,
  });
  await waitForRPCs();
  return experiment;
}
