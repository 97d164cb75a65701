import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stateful stand-in for Keystone v3 password auth and Blazar's reservation API v1, on 127.0.0.1
 * only, with the real paths and JSON: POST /identity/v3/auth/tokens (token in X-Subject-Token, a
 * catalog with the reservation endpoint), POST/GET/DELETE /reservation/v1/leases[/{id}] with bodies
 * wrapped in {"lease": ...}, the project's leases listed as {"leases": [...]}. With `keystone`, a real
 * Keystone issues the tokens and the fake checks each one there, as Blazar's keystonemiddleware does
 * (the cloud's catalog then names the fake).
 */
export interface FakeBlazarOptions {
  /** node type -> hosts of that type in the free pool. */
  hosts: Record<string, number>;
  username?: string;
  password?: string;
  /** GETs before a lease is ACTIVE. */
  pollsBeforeActive?: number;
  /** Status a lease ends in instead of ACTIVE (e.g. "ERROR"). */
  failStatus?: string;
  /** Leases stay PENDING. */
  neverActive?: boolean;
  /** A real Keystone's v3 URL whose tokens are accepted (checked with GET /v3/auth/tokens). */
  keystone?: string;
  /** Milliseconds the answer to a lease request is held back (the lease is made at once). */
  createDelayMs?: number;
}

export interface FakeLease {
  id: string;
  name: string;
  status: string;
  start_date: string;
  end_date: string;
  reservations: {
    id: string;
    resource_type: string;
    resource_properties: string;
    min: number;
    max: number;
    status: string;
  }[];
  polls: number;
  deleted: boolean;
}

export class FakeBlazar {
  readonly leases: FakeLease[] = [];
  private tokens = new Set<string>();
  private server = http.createServer((req, res) => this.handle(req, res));
  private heldBack = new Set<NodeJS.Timeout>();
  url = "";

  constructor(readonly options: FakeBlazarOptions) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return `${this.url}/identity`;
  }

  /** Leases still holding hosts. */
  openLeases(): FakeLease[] {
    return this.leases.filter((l) => !l.deleted && !["TERMINATED", "ERROR"].includes(l.status));
  }

  async stop(): Promise<void> {
    this.heldBack.forEach(clearTimeout);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const open = this.openLeases();
    if (open.length)
      throw new Error(
        `fake Blazar: leases left open: ${open.map((l) => `${l.name} ${l.id} (${l.status})`).join(", ")}`,
      );
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    let text = "";
    req.on("data", (d) => (text += d));
    req.on("end", () => {
      const send = (status: number, value?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "Content-Type": "application/json", ...headers });
        res.end(value === undefined ? "" : JSON.stringify(value));
      };
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const body = text ? JSON.parse(text) : undefined;
      if (req.method === "POST" && path === "/identity/v3/auth/tokens") {
        const user = body?.auth?.identity?.password?.user;
        if (
          user?.name !== (this.options.username ?? "alice") ||
          user?.password !== (this.options.password ?? "s3cret") ||
          !body?.auth?.scope?.project
        ) {
          return send(401, {
            error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
          });
        }
        const token = crypto.randomUUID().replace(/-/g, "");
        this.tokens.add(token);
        return send(
          201,
          {
            token: {
              methods: ["password"],
              expires_at: new Date(Date.now() + 3600_000).toISOString(),
              catalog: [
                {
                  type: "reservation",
                  name: "blazar",
                  endpoints: [{ interface: "public", region_id: "CHI@UC", url: `${this.url}/reservation/v1` }],
                },
              ],
            },
          },
          { "X-Subject-Token": token },
        );
      }
      void this.validToken(String(req.headers["x-auth-token"])).then((valid) => {
        if (!valid) return send(401, { error: { code: 401, message: "Authentication required" } });
        const match = /^\/reservation\/v1\/leases(?:\/([^/]+))?$/.exec(path);
        if (!match) return send(404, { error_message: "not found" });
        const [status, value] = this.leaseRoute(req.method ?? "GET", match[1], body);
        const delay = req.method === "POST" ? (this.options.createDelayMs ?? 0) : 0;
        if (!delay) return send(status, value);
        const timer = setTimeout(() => {
          this.heldBack.delete(timer);
          send(status, value);
        }, delay);
        this.heldBack.add(timer);
      });
    });
  }

  private async validToken(token: string): Promise<boolean> {
    if (this.tokens.has(token) || !this.options.keystone) return this.tokens.has(token);
    const response = await fetch(`${this.options.keystone.replace(/\/+$/, "")}/auth/tokens`, {
      headers: { "X-Auth-Token": token, "X-Subject-Token": token },
    });
    if (response.ok) this.tokens.add(token);
    return response.ok;
  }

  private leaseRoute(
    method: string,
    id: string | undefined,
    body: Record<string, unknown> | undefined,
  ): [number, unknown] {
    if (method === "POST" && !id) {
      const reservations = (body?.reservations as FakeLease["reservations"]) ?? [];
      for (const r of reservations) {
        const type = (JSON.parse(r.resource_properties) as string[])[2];
        const held = this.openLeases()
          .flatMap((l) => l.reservations)
          .filter((h) => h.resource_properties === r.resource_properties)
          .reduce((n, h) => n + h.max, 0);
        if (r.resource_type !== "physical:host" || (this.options.hosts[type] ?? 0) - held < r.min) {
          return [
            409,
            {
              error_code: 409,
              error_name: "NotEnoughHostsAvailable",
              error_message: `Not enough hosts available for ${type}`,
            },
          ];
        }
      }
      if (!/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(String(body?.end_date)) || body?.start_date !== "now") {
        return [400, { error_code: 400, error_message: `bad dates ${body?.start_date} ${body?.end_date}` }];
      }
      const lease: FakeLease = {
        id: crypto.randomUUID(),
        name: String(body?.name),
        status: "PENDING",
        start_date: new Date().toISOString().slice(0, 16).replace("T", " "),
        end_date: String(body?.end_date),
        polls: 0,
        deleted: false,
        reservations: reservations.map((r) => ({ ...r, id: crypto.randomUUID(), status: "pending" })),
      };
      this.leases.push(lease);
      return [201, { lease: this.view(lease) }];
    }
    if (method === "GET" && !id)
      return [200, { leases: this.leases.filter((l) => !l.deleted).map((l) => this.view(l)) }];
    const lease = this.leases.find((l) => l.id === id && !l.deleted);
    if (!lease) return [404, { error_code: 404, error_message: `Object with {'lease_id': '${id}'} not found` }];
    if (method === "DELETE") {
      lease.deleted = true;
      return [204, undefined];
    }
    lease.polls++;
    if (
      lease.status === "PENDING" &&
      !this.options.neverActive &&
      lease.polls > (this.options.pollsBeforeActive ?? 1)
    ) {
      lease.status = this.options.failStatus ?? "ACTIVE";
      for (const r of lease.reservations) r.status = lease.status === "ACTIVE" ? "active" : "error";
    }
    return [200, { lease: this.view(lease) }];
  }

  private view(lease: FakeLease) {
    const { polls: _p, deleted: _d, ...view } = lease;
    return { ...view, events: [], trust_id: "t", user_id: "u", project_id: "p", degraded: false };
  }
}
