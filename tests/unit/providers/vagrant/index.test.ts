import * as assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { loadExperiment } from "../../../../config/load";
import { PROJECT_DIR } from "../../../../config/paths";

pulumi.runtime.setMocks(
  {
    newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
    call: (args) => args.inputs,
  },
  "enos",
  "vagrant",
  false,
);

test("more machines than the private networks hold: a ResourceError of the testbed, before any machine", async () => {
  const { VagrantTestbed } = await import("../../../../providers/vagrant");
  const config = loadExperiment({
    stack: { provider: { type: "vagrant" }, resources: { tiny: { control: 1, network: 1, compute: 189 } } },
    baseDir: PROJECT_DIR,
  });
  if (config.provider.type !== "vagrant") throw new Error("not a vagrant config");
  const args = {
    stack: "tbvag",
    stateDir: "/tmp/enos-tbvag",
    provider: config.provider,
    demands: config.demands,
    knownHostsFile: "/tmp/enos-tbvag/known_hosts",
  };
  assert.throws(
    () => new VagrantTestbed("testbed", args),
    (error: unknown) =>
      error instanceof pulumi.ResourceError &&
      /^resources: 191 vagrant machines, at most 190 fit the private networks$/.test(error.message),
  );
});
