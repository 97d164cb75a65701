import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { stackConfig } from "../../../components/program";
import { loadExperiment } from "../../../config/load";
import { FIXTURES } from "../../support/helpers";

// Config as the engine hands it to the program: every value as text, a YAML mapping as its JSON.
describe("stack config: each key read with its schema's type", () => {
  test('strings stay strings ("007", a password starting with "{"); mappings and lists are read as JSON', () => {
    pulumi.runtime.setAllConfig(
      {
        "enos:provider": '{"type":"local","api_cidr":"10.231.0.0/24"}',
        "enos:resources": '{"control":1,"compute":1,"network":1}',
        "enos:bench_run_id": "007",
        "enos:g5k_username": "123",
        "enos:g5k_password": "{not-json",
        "enos:enable_monitoring": "true",
        "enos:kolla": '{"enable_heat":"no"}',
        "enos:patches": "[]",
        "aws:region": "elsewhere",
      },
      ["enos:g5k_password"],
    );
    const stack = stackConfig();
    assert.deepEqual(stack, {
      provider: { type: "local", api_cidr: "10.231.0.0/24" },
      resources: { control: 1, compute: 1, network: 1 },
      bench_run_id: "007",
      g5k_username: "123",
      g5k_password: "{not-json",
      enable_monitoring: "true",
      kolla: { enable_heat: "no" },
      patches: [],
    });
    const config = loadExperiment({ stack, baseDir: FIXTURES });
    assert.equal(config.benchRunId, "007");
    assert.equal(config.enableMonitoring, true);
  });

  test("a provider given by name, and text that is not JSON where a mapping is due, reach the schema as text", () => {
    pulumi.runtime.setAllConfig({ "enos:provider": "local", "enos:network_constraints": "{oops" });
    assert.deepEqual(stackConfig(), { provider: "local", network_constraints: "{oops" });
  });
});
