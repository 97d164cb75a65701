import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { planSlots } from "../../../../config/slots";
import { g5kCall } from "../../../../providers/g5k/api";
import { jobSubmission } from "../../../../providers/g5k/job";
import {
  assignNodes,
  clusterOf,
  interfacesOf,
  kavlanName,
  planSiteJobs,
  vlanNetwork,
} from "../../../../providers/g5k/plan";

const sites = { paravance: "rennes", parasilo: "rennes", grisou: "nancy" };
const demands = [
  { bucket: "paravance", role: "control", count: 1 },
  { bucket: "paravance", role: "network", count: 1 },
  { bucket: "parasilo", role: "compute", count: 2 },
  { bucket: "grisou", role: "compute", count: 1 },
];

describe("g5k plan", () => {
  test("one job per site: a {cluster='C'}/nodes=N per cluster, the site's vlan, the walltime", () => {
    const jobs = planSiteJobs(demands, sites, { rennes: "{type='kavlan'}/vlan=1" }, "03:00:00");
    assert.deepEqual(jobs, [
      {
        site: "nancy",
        clusters: { grisou: 1 },
        vlan: false,
        resources: "{cluster='grisou'}/nodes=1,walltime=03:00:00",
      },
      {
        site: "rennes",
        clusters: { paravance: 2, parasilo: 2 },
        vlan: true,
        resources:
          "{cluster='paravance'}/nodes=2+{cluster='parasilo'}/nodes=2+{type='kavlan'}/vlan=1,walltime=03:00:00",
      },
    ]);
  });

  test("an unknown cluster is an error naming it and the known ones", () => {
    assert.throws(
      () => planSiteJobs([{ bucket: "parasilo2", role: "compute", count: 1 }], sites, {}, "02:00:00"),
      /no Grid'5000 cluster named parasilo2; known clusters: grisou, parasilo, paravance/,
    );
  });

  test("a reservation without any KaVLAN is an error with the fix", () => {
    assert.throws(
      () => planSiteJobs(demands, sites, { lyon: "{type='kavlan'}/vlan=1" }, "02:00:00"),
      /provider.vlans reserves no KaVLAN on the sites of your clusters \(nancy, rennes\).*add e.g. vlans: \{nancy: /,
    );
  });

  test("the submission is a deploy job sleeping its walltime, with the reservation date when given", () => {
    const api = { url: "http://x/", credentials: { username: "u", password: "p" } };
    const base = { api, site: "rennes", name: "Enos", resources: "r" };
    assert.deepEqual(jobSubmission({ ...base, reservation: null }), {
      name: "Enos",
      resources: "r",
      command: "sleep 31536000",
      types: ["deploy"],
    });
    assert.equal(jobSubmission({ ...base, reservation: "2026-12-01 19:00:00" }).reservation, "2026-12-01 19:00:00");
  });

  test("slots are numbered per group and role across clusters", () => {
    assert.deepEqual(
      planSlots([...demands, { bucket: "grisou", role: "compute", count: 1, group: "grp2" }]).map((s) => [
        s.alias,
        s.bucket,
      ]),
      [
        ["control-1", "paravance"],
        ["network-1", "paravance"],
        ["compute-1", "parasilo"],
        ["compute-2", "parasilo"],
        ["compute-3", "grisou"],
        ["grp2-compute-1", "grisou"],
      ],
    );
  });

  test("node names: cluster, kavlan name", () => {
    assert.equal(clusterOf("paravance-12.rennes.grid5000.fr"), "paravance");
    assert.equal(clusterOf("paravance-12-kavlan-4.rennes.grid5000.fr"), "paravance");
    assert.equal(clusterOf("grimoire-3"), "grimoire");
    assert.equal(kavlanName("paravance-12.rennes.grid5000.fr", "4"), "paravance-12-kavlan-4.rennes.grid5000.fr");
  });

  const obtained = [
    "paravance-10.rennes.grid5000.fr",
    "paravance-2.rennes.grid5000.fr",
    "parasilo-1.rennes.grid5000.fr",
    "parasilo-3.rennes.grid5000.fr",
    "grisou-7.nancy.grid5000.fr",
  ];
  test("strict: each slot its own node, in node order", () => {
    const assigned = assignNodes(planSlots(demands), obtained, "strict");
    assert.deepEqual(
      assigned.map((a) => [a.alias, a.node.split(".")[0]]),
      [
        ["control-1", "paravance-2"],
        ["network-1", "paravance-10"],
        ["compute-1", "parasilo-1"],
        ["compute-2", "parasilo-3"],
        ["compute-3", "grisou-7"],
      ],
    );
  });

  test("strict: missing nodes are an error with the fix; debug: roles share what was obtained", () => {
    const fewer = obtained.filter((n) => !n.startsWith("parasilo-3"));
    assert.throws(
      () => assignNodes(planSlots(demands), fewer, "strict"),
      /fewer nodes than asked \(parasilo: 1 of 2\); set provider.role_distribution: debug/,
    );
    const shared = assignNodes(planSlots(demands), fewer, "debug");
    assert.deepEqual(
      shared.filter((a) => a.bucket === "parasilo").map((a) => a.node.split(".")[0]),
      ["parasilo-1", "parasilo-1"],
    );
    assert.throws(
      () =>
        assignNodes(
          planSlots(demands),
          fewer.filter((n) => !n.startsWith("grisou")),
          "debug",
        ),
      /grisou: 0 of 1.*at least one node per cluster/,
    );
  });

  test("a routed kavlan: VIPs and external pool after the nodes' /23s, as Enos took them (VIPs from the end)", () => {
    const network = vlanNetwork("4", "10.24.0.0/18", "10.27.255.254", "172.16.111.106", ["eno1", "eno2"]);
    assert.deepEqual(network.external, {
      start: "10.24.26.0",
      end: "10.24.61.250",
      cidr: "10.24.0.0/18",
      gateway: "10.27.255.254",
      dns: "172.16.111.106",
    });
    assert.deepEqual(
      Object.values(network.vips).map((v) => v.address),
      ["10.24.61.255", "10.24.61.254", "10.24.61.253", "10.24.61.252", "10.24.61.251"],
    );
    assert.deepEqual([network.extraIps, network.eths], [[], ["eno1", "eno2"]]);
    const local = vlanNetwork("1", "192.168.192.0/18", "192.168.255.254", "d", ["a", "b"]);
    assert.deepEqual([local.vips.internal.address, local.external.end], ["192.168.198.255", "192.168.198.250"]);
  });

  test("interfaces: the mounted adapter for the API, the next mountable one for the external network", () => {
    const adapters = [
      { device: "bmc", mountable: false, management: true },
      { device: "eno1", mountable: true, mounted: true },
      { device: "eno2", mountable: true, mounted: false },
    ];
    assert.deepEqual(interfacesOf(adapters, false), { api: "eno1", external: "eno2" });
    assert.deepEqual(interfacesOf(adapters, true), { api: "eno1", external: "eno1" });
    assert.throws(() => interfacesOf([adapters[0]], false), /no mountable network adapter among bmc/);
  });
});

describe("g5k API calls", () => {
  /** A server answering each request with the next status of `statuses` (then 200), recording the methods. */
  async function serve(statuses: number[], run: (url: string, seen: string[]) => Promise<void>) {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.method!);
      res.writeHead(statuses.shift() ?? 200, { "Content-Type": "application/json" }).end('{"uid": 7}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/stable/`, seen);
    } finally {
      server.close();
    }
  }
  const api = (url: string) => ({ url, credentials: { username: "alice", password: "s3cret" } });

  test("a read outlives a gateway error; a submission is never sent twice", () =>
    serve([503, 503], async (url, seen) => {
      assert.deepEqual(await g5kCall(api(url), "GET", "sites/rennes/jobs/7"), { uid: 7 });
      assert.deepEqual(seen, ["GET", "GET", "GET"]);
      await serve([502], async (url2, posts) => {
        await assert.rejects(g5kCall(api(url2), "POST", "sites/rennes/jobs", {}), /POST .*jobs answered 502/);
        assert.deepEqual(posts, ["POST"]);
      });
    }));
});
