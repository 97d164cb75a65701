import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { g5kCall, type OarJobView } from "../../providers/g5k/api";

/**
 * A stateful stand-in for the Grid'5000 REST API (api.grid5000.fr/stable), on 127.0.0.1 only, with
 * the paths and JSON fields of the real one for what enos uses: sites and clusters of the reference
 * API, site kavlans and DNS server, cluster nodes with network adapters, OAR jobs (submit, list by
 * user and state, show, delete) and Kadeploy deployments (start, show). HTTP basic auth as the real API asks.
 * Nodes given a machine (a namespace host with its own sshd) are really "deployed": like Kadeploy's
 * fresh system, they get the deployment's key as root's only authorized key and a new host key.
 */
export interface FakeCluster {
  site: string;
  nodes: number;
}

export interface FakeG5kOptions {
  clusters: Record<string, FakeCluster>;
  username?: string;
  password?: string;
  /** GETs of a waiting job before it runs (0: runs at once). */
  pollsBeforeRunning?: number;
  /** State a job ends in instead of running (e.g. "error"). */
  failState?: string;
  /** Never let jobs run (a job stuck waiting). */
  neverRun?: boolean;
  /** GETs of a deployment before it ends. */
  pollsBeforeDeployed?: number;
  /** site -> how many nodes of each deployment there end KO. */
  koNodes?: Record<string, number>;
  /** Node name (`paravance-1.rennes.grid5000.fr`) -> the machine behind it. */
  machines?: Record<string, FakeMachine>;
  /** The NIC names the reference API gives every node: API, then external. */
  devices?: [string, string];
  /** Milliseconds the answer to a job submission is held back (the job is submitted at once). */
  submitDelayMs?: number;
}

/** A host of the local testbed standing for a node: its directory (keys, sshd pid) and address. */
export interface FakeMachine {
  dir: string;
  address: string;
}

export interface FakeJob {
  uid: number;
  site: string;
  name: string;
  state: string;
  resources: string;
  types: string[];
  reservation?: string;
  walltime: number;
  polls: number;
  assigned_nodes: string[];
  vlans: string[];
  deleted: boolean;
}

interface FakeDeployment {
  uid: string;
  site: string;
  nodes: string[];
  environment: string;
  key?: string;
  vlan?: string;
  polls: number;
  /** Whether its machines are reinstalled (or it had none), and why not if that failed. */
  installed: boolean;
  failure?: string;
}

const KAVLAN_NETWORKS: Record<string, { network: string; gateway: string }> = {
  "1": { network: "192.168.192.0/18", gateway: "192.168.255.254" },
  "4": { network: "10.24.0.0/18", gateway: "10.27.255.254" },
  "5": { network: "10.24.64.0/18", gateway: "10.24.127.254" },
};

export class FakeG5k {
  readonly jobs: FakeJob[] = [];
  readonly deployments: FakeDeployment[] = [];
  readonly requests: string[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  private nextJob = 1000;
  private heldBack = new Set<NodeJS.Timeout>();
  url = "";

  constructor(readonly options: FakeG5kOptions) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/stable/`;
    return this.url;
  }

  /** Jobs still holding nodes: the fake's teardown check. */
  openJobs(): FakeJob[] {
    return this.jobs.filter((j) => !["terminated", "error"].includes(j.state));
  }

  /** The job reaches its walltime, as OAR would end it. */
  expire(uid: number): void {
    const job = this.jobs.find((j) => j.uid === uid)!;
    job.state = "terminated";
  }

  /** Stops the server; throws if a job is left open (a leaked reservation). */
  async stop(): Promise<void> {
    this.heldBack.forEach(clearTimeout);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const open = this.openJobs();
    if (open.length)
      throw new Error(
        `fake Grid'5000: jobs left open: ${open.map((j) => `${j.site}/${j.uid} (${j.state})`).join(", ")}`,
      );
  }

  private sites(): string[] {
    return [...new Set(Object.values(this.options.clusters).map((c) => c.site))].sort();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const path = url.pathname.replace(/^\/stable\//, "").replace(/\/$/, "");
      this.requests.push(`${req.method} ${path}`);
      const answer = (status: number, value?: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(value === undefined ? "" : JSON.stringify(value));
      };
      const delay = req.method === "POST" && path.endsWith("/jobs") ? (this.options.submitDelayMs ?? 0) : 0;
      const send = (status: number, value?: unknown) => {
        if (!delay) return answer(status, value);
        const timer = setTimeout(() => {
          this.heldBack.delete(timer);
          answer(status, value);
        }, delay);
        this.heldBack.add(timer);
      };
      const expected = `Basic ${Buffer.from(`${this.options.username ?? "alice"}:${this.options.password ?? "s3cret"}`).toString("base64")}`;
      if (req.headers.authorization !== expected) return send(401, { code: 401, message: "Unauthorized" });
      try {
        const [status, value] = this.route(
          req.method ?? "GET",
          path.split("/"),
          body ? JSON.parse(body) : undefined,
          url.searchParams,
        );
        send(status, value);
      } catch (error) {
        send(400, { code: 400, message: (error as Error).message });
      }
    });
  }

  private route(
    method: string,
    parts: string[],
    body: Record<string, unknown> | undefined,
    query: URLSearchParams,
  ): [number, unknown] {
    const [sites, site, kind, id, sub] = parts;
    if (sites !== "sites") return [404, { message: "not found" }];
    if (!site) return [200, { total: this.sites().length, items: this.sites().map((uid) => ({ uid, type: "site" })) }];
    if (!this.sites().includes(site)) return [404, { message: `no site ${site}` }];
    const clusters = Object.entries(this.options.clusters).filter(([, c]) => c.site === site);
    if (!kind)
      return [
        200,
        {
          uid: site,
          type: "site",
          kavlans: { default: { network: "172.16.96.0/20", gateway: "172.16.111.254" }, ...KAVLAN_NETWORKS },
        },
      ];
    if (kind === "servers" && id === "dns")
      return [200, { uid: "dns", network_adapters: { default: { ip: "172.16.111.106" } } }];
    if (kind === "clusters" && !id) return [200, { items: clusters.map(([uid]) => ({ uid, type: "cluster" })) }];
    if (kind === "clusters" && sub === "nodes") {
      const cluster = this.options.clusters[id];
      if (!cluster || cluster.site !== site) return [404, { message: `no cluster ${id}` }];
      return [
        200,
        {
          items: Array.from({ length: cluster.nodes }, (_, i) => ({
            uid: `${id}-${i + 1}`,
            network_adapters: [
              {
                device: this.options.devices?.[0] ?? "eno1",
                interface: "Ethernet",
                enabled: true,
                mountable: true,
                mounted: true,
                management: false,
                ip: `172.16.97.${i + 1}`,
              },
              {
                device: this.options.devices?.[1] ?? "eno2",
                interface: "Ethernet",
                enabled: true,
                mountable: true,
                mounted: false,
                management: false,
              },
              {
                device: "bmc",
                interface: "Ethernet",
                enabled: true,
                mountable: false,
                mounted: false,
                management: true,
              },
            ],
          })),
        },
      ];
    }
    if (kind === "jobs") return this.jobRoute(method, site, id, body, query);
    if (kind === "deployments") return this.deploymentRoute(method, site, id, body);
    return [404, { message: "not found" }];
  }

  private jobRoute(
    method: string,
    site: string,
    id: string | undefined,
    body: Record<string, unknown> | undefined,
    query: URLSearchParams,
  ): [number, unknown] {
    if (method === "GET" && !id) {
      // As the API lists a site's jobs: filtered by user and by a comma-separated list of states.
      const states = query.get("state")?.split(",");
      const user = query.get("user");
      const listed = this.jobs.filter(
        (j) =>
          j.site === site &&
          (!states || states.includes(j.state)) &&
          (!user || user === (this.options.username ?? "alice")),
      );
      return [200, { total: listed.length, offset: 0, items: listed.map((j) => this.jobView(j)), links: [] }];
    }
    if (method === "POST" && !id) {
      const resources = String(body?.resources ?? "");
      const walltime = /,walltime=(\d+):(\d+):(\d+)$/.exec(resources);
      if (!walltime) throw new Error(`resources without walltime: ${resources}`);
      const assigned: string[] = [];
      const vlans: string[] = [];
      for (const part of resources.replace(/,walltime=.*$/, "").split("+")) {
        const cluster = /^\{cluster='([^']+)'\}\/nodes=(\d+)$/.exec(part);
        const vlan = /^\{type='?(kavlan(-local)?)'?\}\/vlan=1$/.exec(part);
        if (cluster) {
          const [, name, n] = cluster;
          const known = this.options.clusters[name];
          if (!known || known.site !== site)
            throw new Error(`There are not enough resources for your request (no cluster ${name} on ${site})`);
          const busy = new Set(this.openJobs().flatMap((j) => j.assigned_nodes));
          const free = Array.from({ length: known.nodes }, (_, i) => `${name}-${i + 1}.${site}.grid5000.fr`).filter(
            (node) => !busy.has(node),
          );
          if (free.length < Number(n))
            throw new Error(`There are not enough resources for your request (${name}: ${free.length} free)`);
          assigned.push(...free.slice(0, Number(n)));
        } else if (vlan) {
          vlans.push(vlan[2] ? "1" : "4");
        } else {
          throw new Error(`cannot parse resource request ${part}`);
        }
      }
      const [, h, m, s] = walltime.map(Number);
      const job: FakeJob = {
        uid: this.nextJob++,
        site,
        name: String(body?.name),
        state: "waiting",
        resources,
        types: (body?.types as string[]) ?? [],
        reservation: body?.reservation as string | undefined,
        walltime: h * 3600 + m * 60 + s,
        polls: 0,
        assigned_nodes: assigned,
        vlans,
        deleted: false,
      };
      this.jobs.push(job);
      return [201, this.jobView(job)];
    }
    const job = this.jobs.find((j) => j.uid === Number(id) && j.site === site);
    if (!job) return [404, { message: `no job ${id}` }];
    if (method === "DELETE") {
      job.deleted = true;
      job.state = "terminated";
      return [
        202,
        { message: "Deleting the job", status: "Delete request registered", oardel_output: "", job_id: job.uid },
      ];
    }
    job.polls++;
    if (job.state === "waiting" && !this.options.neverRun && job.polls > (this.options.pollsBeforeRunning ?? 1)) {
      job.state = this.options.failState ?? "running";
    }
    return [200, this.jobView(job)];
  }

  private jobView(job: FakeJob) {
    const running = job.state === "running";
    return {
      uid: job.uid,
      name: job.name,
      state: job.state,
      types: job.types,
      walltime: job.walltime,
      queue: "default",
      command: "sleep 31536000",
      user: this.options.username ?? "alice",
      ...(job.reservation ? { scheduled_at: job.reservation } : {}),
      assigned_nodes: running ? job.assigned_nodes : [],
      resources_by_type: running
        ? { cores: job.assigned_nodes, ...(job.vlans.length ? { vlans: job.vlans } : {}) }
        : {},
    };
  }

  private deploymentRoute(
    method: string,
    site: string,
    id: string | undefined,
    body: Record<string, unknown> | undefined,
  ): [number, unknown] {
    if (method === "POST" && !id) {
      const nodes = body?.nodes as string[];
      const owned = new Set(
        this.openJobs()
          .filter((j) => j.site === site && j.state === "running" && j.types.includes("deploy"))
          .flatMap((j) => j.assigned_nodes),
      );
      if (!nodes?.length || nodes.some((n) => !owned.has(n)))
        throw new Error("nodes not in a running deploy job of yours");
      const deployment: FakeDeployment = {
        uid: `D-${this.deployments.length + 1}`,
        site,
        nodes,
        environment: String(body?.environment),
        key: body?.key as string | undefined,
        vlan: body?.vlan as string | undefined,
        polls: 0,
        installed: false,
      };
      this.deployments.push(deployment);
      const ko = this.options.koNodes?.[site] ?? 0;
      // Once per machine: in the bench one machine stands for a whole cluster.
      const machines = new Map(
        nodes
          .slice(ko)
          .flatMap((node) => this.options.machines?.[node] ?? [])
          .map((m) => [m.dir, m]),
      );
      Promise.all([...machines.values()].map((machine) => this.reinstall(machine, deployment.key ?? ""))).then(
        () => (deployment.installed = true),
        (error: Error) => (deployment.failure = error.message),
      );
      return [
        201,
        { uid: deployment.uid, status: "processing", site_uid: site, nodes, environment: deployment.environment },
      ];
    }
    const deployment = this.deployments.find((d) => d.uid === id && d.site === site);
    if (!deployment) return [404, { message: `no deployment ${id}` }];
    if (deployment.failure) throw new Error(`fake Kadeploy: ${deployment.failure}`);
    const done = deployment.polls++ >= (this.options.pollsBeforeDeployed ?? 1) && deployment.installed;
    const ko = new Set(deployment.nodes.slice(0, this.options.koNodes?.[site] ?? 0));
    return [
      200,
      {
        uid: deployment.uid,
        status: done ? "terminated" : "processing",
        site_uid: site,
        nodes: deployment.nodes,
        environment: deployment.environment,
        ...(deployment.vlan ? { vlan: deployment.vlan } : {}),
        ...(done
          ? {
              result: Object.fromEntries(
                deployment.nodes.map((n) => [n, { state: ko.has(n) ? "KO" : "OK", macro: null, micro: null }]),
              ),
            }
          : {}),
      },
    ];
  }

  /** What Kadeploy leaves on a node: `key` for root, a new host key; done when sshd answers with it. */
  private async reinstall(machine: FakeMachine, key: string): Promise<void> {
    fs.writeFileSync(path.join(machine.dir, "authorized_keys"), `${key}\n`, { mode: 0o600 });
    const hostKey = path.join(machine.dir, "ssh_host_ed25519_key");
    await new Promise<void>((resolve, reject) =>
      execFile(
        "bash",
        [
          "-c",
          `
      rm -f '${hostKey}' '${hostKey}.pub'
      ssh-keygen -q -t ed25519 -N '' -C '${machine.address}' -f '${hostKey}'
      kill -HUP "$(cat '${machine.dir}/sshd.pid')"
      for _ in $(seq 100); do ssh-keyscan -T 1 -t ed25519 '${machine.address}' 2>/dev/null | grep -qF "$(cut -d' ' -f2 '${hostKey}.pub')" && exit 0; sleep 0.05; done
      echo "sshd of ${machine.address} did not come back with its new host key" >&2; exit 1`,
        ],
        (error, _out, err) => (error ? reject(new Error(err.trim() || error.message)) : resolve()),
      ),
    );
  }
}

/**
 * A deploy job of the fake's user submitted outside any stack (by hand, by an earlier run), through the
 * API; returned once it runs, or as it is at once with `waiting`.
 */
export async function jobOutside(
  fake: FakeG5k,
  site: string,
  name: string,
  resources: string,
  waiting = false,
): Promise<OarJobView> {
  const credentials = { username: fake.options.username ?? "alice", password: fake.options.password ?? "s3cret" };
  const api = { url: fake.url, credentials };
  const submission = { name, resources, command: "sleep 31536000", types: ["deploy"] };
  const { uid } = (await g5kCall<OarJobView>(api, "POST", `sites/${site}/jobs`, submission))!;
  for (;;) {
    const job = (await g5kCall<OarJobView>(api, "GET", `sites/${site}/jobs/${uid}`))!;
    if (waiting || job.state === "running") return job;
  }
}
