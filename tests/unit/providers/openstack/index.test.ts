import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../../../../cli/stack-file";
import { connectionOf, connectionProblem } from "../../../../components/commands";
import { renderKnownHosts, renderSshConfig } from "../../../../components/ssh-config";
import { loadExperiment } from "../../../../config/load";
import { PROJECT_DIR } from "../../../../config/paths";
import { cloudIdentity, credentialsNow, openstackAuth } from "../../../../providers/openstack/auth";
import { invokeErrorText, openstackCloudProblem } from "../../../../providers/openstack/cloud";
import { externalPool } from "../../../../providers/openstack/plan";
import { openstackPluginProblem } from "../../../../providers/openstack/plugin";
import { mockedRandomOutputs } from "../../../support/mocked-random";
import { installedOpenStackSchema } from "../../../support/openstack-schema";
import { mockedExperiment, settled, waitForRPCs } from "../../../support/pulumi-mocks";

/** OpenStack and chameleonkvm resource graphs under pulumi mocks: what the provider would be asked to make. */
const registered: { type: string; token: string; name: string; inputs: Record<string, unknown> }[] = [];
const invoked: { token: string; inputs: Record<string, unknown> }[] = [];
// Everything every graph below asked of @pulumi/openstack, checked at the end against the installed plugin.
const askedOfOpenStack: { token: string; inputs: Record<string, unknown>; kind: "resource" | "function" }[] = [];
let ip = 10;
pulumi.runtime.setMocks(
  {
    newResource(args) {
      const type = args.type.split(":").pop()!;
      registered.push({ type, token: args.type, name: args.name, inputs: args.inputs });
      if (args.type.startsWith("openstack:"))
        askedOfOpenStack.push({ token: args.type, inputs: args.inputs, kind: "resource" });
      const state: Record<string, unknown> = { ...args.inputs };
      Object.assign(state, mockedRandomOutputs(type, args.name, args.inputs));
      if (type === "Port") state.allFixedIps = [`10.87.23.${ip++}`];
      if (type === "Subnet") state.gatewayIp = "10.87.23.1";
      if (type === "FloatingIp") state.address = "203.0.113.7";
      if (type === "OpenStackSweep") state.marker = "0f1e2d3c-marker";
      if (type === "BlazarLease") Object.assign(state, { leaseId: "lease-1", endDate: "2026-11-25 05:00" });
      if (type === "BlazarLeaseReady") state.reservations = { compute_skylake: "res-sky", storage: "res-sto" };
      if (type === "StaticHostsProbe") {
        state.probed = (args.inputs.hosts as { alias: string; jump?: string }[]).map((h) => ({
          alias: h.alias,
          interfaces: { api: "ens3", external: "ens3" },
          addresses: { ens3: ["10.87.23.50/24"] },
          devices: ["ens3"],
          kernel: { htb: true, netem: true },
          hostKey: "ssh-ed25519 CCCC",
          ...(h.jump ? { jumpHostKey: "ssh-ed25519 GGGG" } : {}),
        }));
      }
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      invoked.push({ token: args.token, inputs: args.inputs });
      if (args.token.startsWith("openstack:"))
        askedOfOpenStack.push({ token: args.token, inputs: args.inputs, kind: "function" });
      if (args.token.endsWith("getNetwork"))
        return args.inputs.external
          ? { id: "ext-id", name: "public" }
          : { id: `${args.inputs.name}-id`, name: args.inputs.name };
      if (args.token.endsWith("getSubnet"))
        return {
          id: "sub-id",
          cidr: "10.140.80.0/22",
          gatewayIp: "10.140.83.254",
          allocationPools: [{ start: "10.140.80.10", end: "10.140.82.255" }],
        };
      return {};
    },
  },
  "enos",
  "graph",
  false,
);

const byType = (type: string) => registered.filter((r) => r.type === type);

async function build(config: Record<string, unknown>) {
  registered.length = 0;
  invoked.length = 0;
  return mockedExperiment("tbos", config);
}

const resources = { "m1.large": { control: 1, network: 1 }, "m1.medium": { compute: 2 } };
const openstackProvider = {
  type: "openstack",
  key_name: "mykey",
  image_name: "debian-12",
  user: "debian",
  network_interface: "ens3",
};

describe("openstack testbeds (pulumi mocks)", () => {
  before(() => {
    // The plugin check looks for the plugin's binary: an empty file where the engine would install it.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "tbos-home-"));
    const version = require("@pulumi/openstack/package.json").version.replace(/^v/, "");
    fs.mkdirSync(path.join(home, "plugins", `resource-openstack-v${version}`), { recursive: true });
    fs.writeFileSync(path.join(home, "plugins", `resource-openstack-v${version}`, "pulumi-resource-openstack"), "");
    process.env.PULUMI_HOME = home;
    Object.assign(process.env, {
      OS_AUTH_URL: "https://chi.uc.chameleoncloud.org:5000/v3",
      OS_USERNAME: "alice",
      OS_PASSWORD: "s3cret",
      OS_PROJECT_NAME: "CH-0001",
    });
  });
  after(() => fs.rmSync(process.env.PULUMI_HOME!, { recursive: true, force: true }));

  test("instances per flavor and role with the image, key pair, network and security group", async () => {
    const experiment = await build({ provider: openstackProvider, resources });
    assert.deepEqual(
      byType("Instance").map((r) => [r.name, r.inputs.flavorName, r.inputs.imageName, r.inputs.keyPair]),
      [
        ["testbed-control-1", "m1.large", "debian-12", "mykey"],
        ["testbed-network-1", "m1.large", "debian-12", "mykey"],
        ["testbed-compute-1", "m1.medium", "debian-12", "mykey"],
        ["testbed-compute-2", "m1.medium", "debian-12", "mykey"],
      ],
    );
    for (const instance of byType("Instance")) {
      assert.deepEqual(
        instance.inputs.networks,
        [{ port: `${instance.name}-port-id` }],
        "each host on a port of its own",
      );
      assert.equal(instance.inputs.schedulerHints, undefined);
    }
    const hostPorts = byType("Port").filter((port) => !port.name.startsWith("testbed-vip-"));
    assert.deepEqual(
      hostPorts.map((port) => [port.name, port.inputs.networkId, port.inputs.securityGroupIds]),
      ["control-1", "network-1", "compute-1", "compute-2"].map((alias) => [
        `testbed-${alias}-port`,
        "testbed-network-id",
        ["testbed-secgroup-id"],
      ]),
    );
    // Any host may hold a VIP (keepalived moves it): Neutron lets each port send and receive the five VIP ports'
    // addresses.
    const vipAddresses = (await settled(experiment.network)).extraIps;
    assert.equal(vipAddresses.length, 5);
    for (const port of hostPorts)
      assert.deepEqual(
        port.inputs.allowedAddressPairs,
        vipAddresses.map((ipAddress) => ({ ipAddress })),
        port.name,
      );
    const hosts = await settled(experiment.hosts);
    assert.deepEqual(
      hosts.map((h) => [h.alias, h.roles, h.user, h.interfaces.api]),
      [
        ["control-1", ["control"], "debian", "ens3"],
        ["network-1", ["network"], "debian", "ens3"],
        ["compute-1", ["compute"], "debian", "ens3"],
        ["compute-2", ["compute"], "debian", "ens3"],
      ],
    );
    assert.ok(
      hosts.every((h) => /^10\.87\.23\.\d+$/.test(h.address)),
      "each host's address is its port's",
    );
  });

  test("every object the cloud makes carries the sweep's marker, and depends on the sweep (released after them, it deletes what is left)", async () => {
    await build({ provider: openstackProvider, resources });
    const [sweep] = byType("OpenStackSweep");
    // Which cloud, user and project: the password is read when the sweep runs, never kept.
    assert.deepEqual(sweep.inputs.auth, {
      authUrl: "https://chi.uc.chameleoncloud.org:5000/v3",
      username: "alice",
      projectName: "CH-0001",
      userDomainName: "Default",
      projectDomainName: "Default",
    });
    assert.doesNotMatch(
      JSON.stringify(registered.filter((r) => r.token.startsWith("pulumi-nodejs:")).map((r) => r.inputs)),
      /s3cret/,
    );
    for (const instance of byType("Instance"))
      assert.deepEqual(instance.inputs.metadata, { enos_experiment: "0f1e2d3c-marker" }, instance.name);
    const described = registered.filter((r) =>
      ["Network", "Subnet", "Router", "SecGroup", "Port", "FloatingIp"].includes(r.type),
    );
    assert.equal(described.length, 1 + 1 + 1 + 1 + 9 + 1);
    for (const object of described)
      assert.match(
        String(object.inputs.description),
        /^enos tbos .+ 0f1e2d3c-marker$/,
        `${object.type} ${object.name}`,
      );
    // Objects made by Neutron alongside (rules, router interface, association) go with their parents.
    assert.deepEqual(
      registered
        .filter((r) => r.token.startsWith("openstack:") && !described.includes(r) && r.type !== "Instance")
        .map((r) => r.type)
        .sort(),
      [...Array(4).fill("SecGroupRule"), "FloatingIpAssociate", "RouterInterface"].sort(),
    );
  });

  test("the credentials enos itself uses: the stack's keys, then an openrc, then clouds.yaml (with secure.yaml); else what is missing", () => {
    const none = () => undefined;
    const openrc = {
      OS_AUTH_URL: "https://k:5000/v3",
      OS_USERNAME: "alice",
      OS_PASSWORD: "pw",
      OS_PROJECT_NAME: "p",
      OS_USER_DOMAIN_NAME: "chameleon",
    };
    assert.deepEqual(openstackAuth(openrc, none), {
      auth: {
        authUrl: "https://k:5000/v3",
        username: "alice",
        password: "pw",
        projectName: "p",
        userDomainName: "chameleon",
        projectDomainName: "chameleon",
      },
    });
    const keys: Record<string, string> = { password: "from-stack", region: "CHI@TACC" };
    const auth = openstackAuth(openrc, (k) => keys[k]);
    assert.ok(
      "auth" in auth && auth.auth.password === "from-stack" && auth.auth.region === "CHI@TACC",
      "a stack key overrides the openrc",
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbos-clouds-"));
    try {
      fs.writeFileSync(
        path.join(dir, "clouds.yaml"),
        "clouds:\n  chi:\n    auth:\n      auth_url: https://chi:5000/v3\n      application_credential_id: ac1\n    region_name: CHI@UC\n",
      );
      fs.writeFileSync(
        path.join(dir, "secure.yaml"),
        "clouds:\n  chi:\n    auth:\n      application_credential_secret: shh\n",
      );
      assert.deepEqual(openstackAuth({ OS_CLOUD: "chi" }, none, dir), {
        auth: {
          authUrl: "https://chi:5000/v3",
          region: "CHI@UC",
          applicationCredentialId: "ac1",
          applicationCredentialSecret: "shh",
          userDomainName: "Default",
          projectDomainName: "Default",
        },
      });
      assert.deepEqual(openstackAuth({ OS_CLOUD: "tacc" }, none, dir), {
        problem: `OS_CLOUD (or openstack:cloud) is tacc, but ${dir}/clouds.yaml has no such cloud`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(openstackAuth({ OS_AUTH_URL: "u", OS_USERNAME: "alice" }, none), {
      problem:
        "incomplete OpenStack credentials: OS_PASSWORD (openstack:password), " +
        "OS_PROJECT_ID or OS_PROJECT_NAME (openstack:tenantId or openstack:tenantName) not set; source your openrc, or use an application credential (OS_APPLICATION_CREDENTIAL_ID and _SECRET)",
    });
  });

  test("credentials read again at each call: the openrc first, then the stack's keys, never another cloud's, user's or project's", () => {
    const identity = {
      authUrl: "https://k:5000/v3",
      username: "alice",
      projectName: "p",
      userDomainName: "Default",
      projectDomainName: "Default",
    };
    const openrc = {
      OS_AUTH_URL: "https://k:5000/v3/",
      OS_USERNAME: "alice",
      OS_PASSWORD: "rotated",
      OS_PROJECT_NAME: "p",
    };
    const stackKeys: Record<string, string> = {
      authUrl: "https://k:5000",
      userName: "alice",
      password: "old",
      tenantName: "p",
    };
    assert.deepEqual(
      credentialsNow(identity, openrc, (k) => stackKeys[k]),
      [
        { ...identity, authUrl: "https://k:5000/v3/", password: "rotated" },
        { ...identity, authUrl: "https://k:5000", password: "old" },
      ],
    );
    assert.deepEqual(
      credentialsNow(identity, {}, (k) => stackKeys[k]),
      [{ ...identity, authUrl: "https://k:5000", password: "old" }],
    );
    const other = credentialsNow(identity, { ...openrc, OS_PROJECT_NAME: "q" }, () => undefined);
    assert.equal(
      other,
      "no credentials for alice in project p at https://k:5000/v3 (found: alice in project q at https://k:5000/v3/); " +
        "source that project's openrc (or set OS_CLOUD to its clouds.yaml entry), or set the stack's openstack: keys, and run again",
    );
    assert.deepEqual(cloudIdentity({ ...identity, password: "pw" }), identity);
  });

  test("the sweep of a create that was in flight (no marker yet) calls nothing: an undefined marker matches every server without one", async () => {
    const { sweepProvider } = await import("../../../../providers/openstack/sweep");
    let calls = 0;
    const cloud = http.createServer((_request, response) => {
      calls++;
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => cloud.listen(0, "127.0.0.1", resolve));
    try {
      const authUrl = `http://127.0.0.1:${(cloud.address() as AddressInfo).port}/v3`;
      await sweepProvider.delete!("interrupted-create", {
        auth: { authUrl, username: "alice", password: "pw", projectName: "p" },
        waitSeconds: 1,
      });
      assert.equal(calls, 0);
    } finally {
      cloud.close();
    }
  });

  test("a subnet with no room after its pool for Kolla's external pool: a Refusal says so, nothing throws", async () => {
    const crowded = { ...openstackProvider, allocation_pool: { start: "10.87.23.10", end: "10.87.23.253" } };
    await build({ provider: crowded, resources });
    assert.deepEqual(
      byType("Refusal").map((r) => [r.name, r.inputs.reason]),
      [
        [
          "testbed-external-pool",
          "subnet 10.87.23.0/24 has no addresses after its allocation pool (ending 10.87.23.253) for Kolla's external " +
            "pool; with configure_network, shrink provider.allocation_pool or widen provider.subnet.cidr; without it, " +
            "name in provider.subnet a subnet with free addresses after its allocation pool (the cloud's admin can " +
            "shrink the pool)",
        ],
      ],
    );
  });

  test("configure_network: network, subnet with the pool and DNS, router to the external network", async () => {
    const experiment = await build({ provider: openstackProvider, resources });
    assert.deepEqual(
      byType("Network").map((r) => r.inputs.name),
      ["enos-network"],
    );
    const [subnet] = byType("Subnet");
    assert.deepEqual(
      [subnet.inputs.cidr, subnet.inputs.allocationPools, subnet.inputs.dnsNameservers],
      ["10.87.23.0/24", [{ start: "10.87.23.10", end: "10.87.23.100" }], ["8.8.8.8", "8.8.4.4"]],
    );
    assert.equal(byType("Router")[0].inputs.externalNetworkId, "ext-id");
    assert.deepEqual(byType("RouterInterface")[0].inputs, {
      routerId: "testbed-router-id",
      subnetId: "testbed-subnet-id",
    });
    const network = await settled(experiment.network);
    assert.equal(network.extraIps.length, 5, "five VIP ports");
    assert.deepEqual(network.external, {
      start: "10.87.23.101",
      end: "10.87.23.254",
      cidr: "10.87.23.0/24",
      gateway: "10.87.23.1",
      dns: "8.8.8.8",
    });
  });

  test("configure_network false: no network resources, the named ones are looked up", async () => {
    const experiment = await build({
      provider: {
        ...openstackProvider,
        configure_network: false,
        network: { name: "shared" },
        subnet: { name: "shared-subnet" },
      },
      resources,
    });
    assert.deepEqual(
      [byType("Network"), byType("Subnet"), byType("Router"), byType("RouterInterface")],
      [[], [], [], []],
    );
    assert.ok(invoked.some((i) => i.token.endsWith("getNetwork") && i.inputs.name === "shared"));
    assert.ok(
      invoked.some(
        (i) => i.token.endsWith("getSubnet") && i.inputs.name === "shared-subnet" && i.inputs.networkId === "shared-id",
      ),
    );
    assert.deepEqual(
      byType("Port").map((port) => port.inputs.networkId),
      Array(9).fill("shared-id"),
      "four hosts' ports and five VIPs",
    );
    assert.deepEqual((await settled(experiment.network)).external.start, "10.140.83.0");
  });

  test("gateway: one floating IP on the first host; every host reached through it (ProxyJump)", async () => {
    const experiment = await build({ provider: openstackProvider, resources });
    assert.deepEqual(
      byType("FloatingIp").map((r) => r.inputs.pool),
      ["public"],
    );
    const [association] = byType("FloatingIpAssociate");
    assert.deepEqual(
      [association.token, association.inputs],
      [
        "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
        { floatingIp: "203.0.113.7", portId: "testbed-control-1-port-id" },
      ],
    );
    const hosts = await settled(experiment.hosts);
    assert.ok(hosts.every((h) => h.jump === "debian@203.0.113.7"));
    const config = renderSshConfig(hosts, "/k", "/l");
    assert.equal(config.match(/ProxyJump debian@203\.0\.113\.7/g)?.length, 4);
    // The gateway's key, learnt at the probe, is checked: by ssh (ProxyJump reads its entry) and by the command plugin.
    assert.ok(hosts.every((h) => h.jumpHostKey === "ssh-ed25519 GGGG"));
    const gateway = /\n\nHost 203\.0\.113\.7\n {2}HostName 203\.0\.113\.7\n {2}User debian\n {2}Port 22\n( {2}.*\n)*/;
    assert.match(config, new RegExp(`${gateway.source}  UserKnownHostsFile /k\n  StrictHostKeyChecking yes\n`));
    assert.match(renderKnownHosts(hosts), /^203\.0\.113\.7 ssh-ed25519 GGGG$/m);
    const proxy = (await settled(pulumi.output(connectionOf({ ...hosts[0], keyfile: undefined })))).proxy;
    assert.deepEqual([proxy?.host, proxy?.user, proxy?.hostKey], ["203.0.113.7", "debian", "ssh-ed25519 GGGG"]);
    const unpinned = { ...hosts[0], jumpHostKey: undefined };
    assert.match(
      connectionProblem(unpinned) ?? "",
      /host control-1: the testbed knows no host key for its jump host debian@203\.0\.113\.7/,
    );
    assert.equal(connectionProblem({ ...hosts[0], keyfile: undefined }), undefined);
    // Made inside an apply, where a throw would be an unhandled rejection: the phases' preconditions stop it.
    assert.doesNotThrow(() => connectionOf(unpinned));
    const probe = byType("StaticHostsProbe")[0].inputs.hosts as { jump?: string }[];
    assert.ok(
      probe.every((t) => t.jump === "debian@203.0.113.7"),
      "the probe goes through the gateway too",
    );

    const direct = await build({ provider: { ...openstackProvider, gateway: false }, resources });
    assert.deepEqual(byType("FloatingIp"), []);
    assert.ok((await settled(direct.hosts)).every((h) => h.jump === undefined));
  });

  test("chameleonkvm: the openstack testbed with Chameleon's defaults", async () => {
    await build({
      provider: { type: "chameleonkvm", key_name: "cc-key" },
      resources: { "m1.small": { control: 1, network: 1, compute: 1 } },
    });
    assert.deepEqual(
      byType("Instance").map((r) => [r.inputs.flavorName, r.inputs.imageName, r.inputs.keyPair]),
      [
        ["m1.small", "CC-Ubuntu22.04", "cc-key"],
        ["m1.small", "CC-Ubuntu22.04", "cc-key"],
        ["m1.small", "CC-Ubuntu22.04", "cc-key"],
      ],
    );
    assert.deepEqual(byType("StaticHostsProbe")[0].inputs.eths, ["ens3", "ens3"]);
    assert.equal((byType("StaticHostsProbe")[0].inputs.hosts as { user: string }[])[0].user, "cc");
  });

  test("chameleonbaremetal: a Blazar lease per node type, instances on flavor baremetal scheduled into it", async () => {
    await build({
      provider: { type: "chameleonbaremetal", key_name: "cc-key" },
      resources: { compute_skylake: { control: 1, network: 1 }, storage: { compute: 1 } },
    });
    const [lease] = byType("BlazarLease");
    assert.deepEqual([lease.inputs.name, lease.inputs.walltime], ["enos-tbos", "02:00:00"], "named after the stack");
    assert.deepEqual(
      (lease.inputs.reservations as { resource_properties: string; min: number }[]).map((r) => [
        r.resource_properties,
        r.min,
      ]),
      [
        ['["==","$node_type","compute_skylake"]', 2],
        ['["==","$node_type","storage"]', 1],
      ],
    );
    assert.deepEqual(byType("BlazarLeaseReady")[0].inputs.leaseId, "lease-1");
    assert.equal(
      (lease.inputs.auth as { password?: string }).password,
      undefined,
      "the password is read at each call, never kept",
    );
    assert.deepEqual(
      byType("Instance").map((r) => [r.name, r.inputs.flavorName, r.inputs.imageName, r.inputs.schedulerHints]),
      [
        [
          "testbed-instances-control-1",
          "baremetal",
          "CC-Ubuntu22.04",
          [{ additionalProperties: { reservation: "res-sky" } }],
        ],
        [
          "testbed-instances-network-1",
          "baremetal",
          "CC-Ubuntu22.04",
          [{ additionalProperties: { reservation: "res-sky" } }],
        ],
        [
          "testbed-instances-compute-1",
          "baremetal",
          "CC-Ubuntu22.04",
          [{ additionalProperties: { reservation: "res-sto" } }],
        ],
      ],
    );
    assert.deepEqual([byType("Network"), byType("Router")], [[], []], "sharednet1 is used, not made");
    assert.ok(invoked.some((i) => i.token.endsWith("getNetwork") && i.inputs.name === "sharednet1"));
    assert.deepEqual(byType("StaticHostsProbe")[0].inputs.eths, ["eno1", "eno1"]);
  });

  // What their preview would make, as far as this machine allows (no openstack plugin to preview with).
  for (const testbed of ["openstack", "chameleonkvm", "chameleonbaremetal"]) {
    test(`Pulumi.${testbed}.yaml: one instance per role slot with its key, and hosts for every phase`, async () => {
      const config = readStackFile(PROJECT_DIR, testbed);
      const experiment = await build(config);
      const slots = Object.values(config.resources as Record<string, Record<string, number>>).reduce(
        (n, roles) => n + Object.values(roles).reduce((a, b) => a + b, 0),
        0,
      );
      assert.equal(byType("Instance").length, slots);
      assert.ok(
        byType("Instance").every((r) => r.inputs.keyPair === (config.provider as { key_name: string }).key_name),
      );
      assert.deepEqual(byType("Refusal"), []);
      assert.equal((await settled(experiment.hosts)).length, slots);
    });
  }

  test("the plugin check names what is missing and how to get it", () => {
    const problem = openstackPluginProblem("/engine-home", { PULUMI_HOME: "/user-home", PATH: "" });
    assert.match(
      problem ?? "",
      /^missing plugin: openstack v([\d.]+) \(pulumi-resource-openstack; looked for \/engine-home\/plugins\/resource-openstack-v\1\/pulumi-resource-openstack, \/user-home\/plugins\/.* and on PATH\)\. scripts\/setup builds it and installs it in \/engine-home \(or, with internet, in this project: `pulumi plugin install resource openstack \1`\)$/,
    );
    assert.equal(
      openstackPluginProblem("/engine-home", process.env),
      undefined,
      "found in the PULUMI_HOME of the environment",
    );
  });

  test("the cloud check: an openrc, OS_CLOUD or the stack's openstack:authUrl/cloud will do; else it names them all", () => {
    for (const [env, config] of [
      [{ OS_AUTH_URL: "u" }, {}],
      [{ OS_CLOUD: "c" }, {}],
      [{}, { authUrl: "u" }],
      [{}, { cloud: "c" }],
    ] as const) {
      assert.equal(openstackCloudProblem(env, config), undefined, JSON.stringify([env, config]));
    }
    assert.match(
      openstackCloudProblem({}, {}) ?? "",
      /^no OpenStack cloud to use: OS_AUTH_URL and OS_CLOUD are not set, nor openstack:authUrl or openstack:cloud\. Source your openrc .*`pulumi config set openstack:authUrl URL`/,
    );
  });

  test("an invoke's error reads as one line: Terraform's message without the bridge's wrapping", () => {
    assert.equal(
      invokeErrorText(
        'invocation of openstack:networking/getNetwork:getNetwork returned an error: invoking openstack:networking/getNetwork:getNetwork: 1 error occurred:\n\t* Error creating OpenStack networking client: Post "http://h/v3/auth/tokens": connection refused\n\n',
      ),
      'Error creating OpenStack networking client: Post "http://h/v3/auth/tokens": connection refused',
    );
  });

  // The testbed alone, with the engine home given: the project's own may hold the plugin.
  async function buildBaremetal(pulumiHome: string) {
    registered.length = 0;
    const { ChameleonBaremetalTestbed } = await import("../../../../providers/chameleon");
    const config = loadExperiment({
      stack: {
        provider: { type: "chameleonbaremetal", key_name: "cc-key" },
        resources: { compute_skylake: { control: 1, network: 1, compute: 1 } },
      },
      baseDir: PROJECT_DIR,
    });
    if (config.provider.type !== "chameleonbaremetal") throw new Error("not a chameleonbaremetal config");
    new ChameleonBaremetalTestbed("testbed", {
      stack: "tbos",
      pulumiHome,
      provider: config.provider,
      demands: config.demands,
      knownHostsFile: "/tmp/enos-tbos/known_hosts",
    });
    await waitForRPCs();
  }

  test("without the plugin, or without a cloud, only the resource reporting it is made (chameleonbaremetal leases nothing)", async () => {
    const home = process.env.PULUMI_HOME!;
    process.env.PULUMI_HOME = "/nonexistent";
    try {
      await buildBaremetal("/nonexistent");
      assert.match(
        String(byType("Refusal")[0]?.inputs.reason),
        /^missing plugin: openstack .*pulumi-resource-openstack/,
      );
      assert.deepEqual([byType("Instance"), byType("BlazarLease"), byType("SecGroup")], [[], [], []]);
    } finally {
      process.env.PULUMI_HOME = home;
    }
    const authUrl = process.env.OS_AUTH_URL;
    delete process.env.OS_AUTH_URL;
    try {
      await buildBaremetal(home);
      assert.match(String(byType("Refusal")[0]?.inputs.reason), /^no OpenStack cloud to use: /);
      assert.deepEqual([byType("Instance"), byType("BlazarLease"), byType("SecGroup")], [[], [], []]);
    } finally {
      process.env.OS_AUTH_URL = authUrl;
    }
  });

  test("external pool: after the allocation pool, short of the broadcast and gateway; an error when none is left", () => {
    assert.deepEqual(externalPool("10.0.0.0/24", "10.0.0.100", "10.0.0.1", "d"), {
      start: "10.0.0.101",
      end: "10.0.0.254",
      cidr: "10.0.0.0/24",
      gateway: "10.0.0.1",
      dns: "d",
    });
    assert.equal(externalPool("10.0.0.0/24", "10.0.0.100", "10.0.0.254", "d").end, "10.0.0.253");
    // 128.0.0.0 and above: the network address stays unsigned.
    assert.equal(externalPool("192.168.1.0/24", "192.168.1.100", "192.168.1.254", "d").end, "192.168.1.253");
    assert.throws(
      () => externalPool("10.0.0.0/24", "10.0.0.253", "10.0.0.1", "d"),
      /no addresses after its allocation pool .*; with configure_network, shrink provider\.allocation_pool .*; without it, name in provider\.subnet a subnet with free addresses/,
    );
  });

  // Last: the graphs above, all variants (network made or looked up, gateway or not, KVM, bare metal).
  test("every class, function and input the graphs asked of @pulumi/openstack is one the installed plugin accepts", () => {
    const schema = installedOpenStackSchema();
    assert.ok(askedOfOpenStack.length > 0);
    const refused = new Set<string>();
    for (const { token, inputs, kind } of askedOfOpenStack) {
      const accepted =
        kind === "resource" ? schema.resources[token]?.inputProperties : schema.functions[token]?.inputs?.properties;
      if (!accepted) refused.add(`${kind} ${token}: not mapped by the plugin`);
      for (const input of Object.keys(inputs).filter((key) => accepted && !(key in accepted)))
        refused.add(`${token}: no input ${input}`);
    }
    assert.deepEqual([...refused], []);
  });
});
