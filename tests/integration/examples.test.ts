import * as assert from "node:assert/strict";
import * as net from "node:net";
import { describe, test } from "node:test";
import { readStackFile } from "../../cli/stack-file";
import { loadExperiment } from "../../config/load";
import { PROJECT_DIR } from "../../config/paths";
import { FakeG5k } from "../fakes/g5k";
import { cleanUp, testExperiment } from "../support/harness";

/** The example stacks of the remote testbeds: valid, and previewed as far as this machine allows. */
const examples = ["g5k", "vagrant", "openstack", "chameleonkvm", "chameleonbaremetal"];
const example = (testbed: string) => readStackFile(PROJECT_DIR, testbed);

/** Previews the example under a stack of its own; returns the planned steps by resource type. */
async function preview(name: string, config: Record<string, unknown>, secrets: Record<string, string> = {}) {
  const experiment = await testExperiment(name, config);
  try {
    for (const [key, value] of Object.entries(secrets)) await experiment.stack.setConfig(key, { value, secret: true });
    const steps: string[] = [];
    await experiment.stack.preview({
      onEvent: (e) =>
        e.resourcePreEvent &&
        steps.push(`${e.resourcePreEvent.metadata.op} ${e.resourcePreEvent.metadata.type.split(":").pop()}`),
    });
    return steps;
  } finally {
    await cleanUp(experiment);
  }
}

describe("example stacks of the remote testbeds", { timeout: 300_000 }, () => {
  for (const testbed of examples) {
    test(`Pulumi.${testbed}.yaml validates`, () => {
      assert.equal(loadExperiment({ stack: example(testbed), baseDir: PROJECT_DIR }).provider.type, testbed);
    });
  }

  test("g5k previews against the API: sites and clusters are read, no job is submitted", async () => {
    const fake = new FakeG5k({
      clusters: {
        paravance: { site: "rennes", nodes: 4 },
        parasilo: { site: "rennes", nodes: 4 },
        grisou: { site: "nancy", nodes: 4 },
      },
    });
    const url = await fake.start();
    try {
      const config = example("g5k");
      const steps = await preview(
        `tbex${process.pid}g`,
        { ...config, provider: { ...(config.provider as object), api_url: url }, g5k_username: "alice" },
        { "enos:g5k_password": "s3cret" },
      );
      for (const step of [
        "create OarJob",
        "create G5kJobNodes",
        "create StaticHostsProbe",
        "create SshKeyPair",
        "create Command",
      ])
        assert.ok(steps.includes(step), `${step} in ${steps}`);
      assert.deepEqual(
        fake.requests.filter((r) => !r.startsWith("GET")),
        [],
        "preview changes nothing on the testbed",
      );
      assert.deepEqual(fake.requests.sort(), ["GET sites", "GET sites/nancy/clusters", "GET sites/rennes/clusters"]);
    } finally {
      await fake.stop();
    }
  });

  test("vagrant previews: the machines and their probe", async () => {
    const steps = await preview(`tbex${process.pid}v`, example("vagrant"));
    assert.ok(steps.includes("create VagrantMachines") && steps.includes("create StaticHostsProbe"), String(steps));
  });

  // The openstack plugin is the one scripts/setup built and installed; no cloud runs here yet.
  for (const testbed of ["openstack", "chameleonkvm", "chameleonbaremetal"]) {
    test(`${testbed} without a cloud: the preview stops with what to set`, async () => {
      await withEnv({ OS_AUTH_URL: undefined, OS_CLOUD: undefined }, () =>
        assert.rejects(
          preview(`tbex${process.pid}${testbed.slice(0, 3)}${testbed.length}`, example(testbed)),
          /no OpenStack cloud to use: OS_AUTH_URL and OS_CLOUD are not set.*`pulumi config set openstack:authUrl URL`/,
        ),
      );
    });
  }

  test("openstack with a cloud that does not answer: the plugin runs, and the preview stops once, naming the connection it could not make", async () => {
    const port = await closedPort();
    const openrc = {
      OS_AUTH_URL: `http://127.0.0.1:${port}/v3`,
      OS_USERNAME: "demo",
      OS_PASSWORD: "demo",
      OS_PROJECT_NAME: "demo",
      OS_CLOUD: undefined,
    };
    await withEnv(openrc, () =>
      assert.rejects(
        preview(`tbex${process.pid}osu`, example("openstack")),
        new RegExp(
          `the OpenStack cloud's external network could not be looked up: Error creating OpenStack networking client: Post "http://127\\.0\\.0\\.1:${port}/v3/auth/tokens": .*connection refused\n`,
        ),
      ),
    );
  });
});

/** Runs fn with these environment variables set (undefined: unset), the engine's too; restores them after. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
