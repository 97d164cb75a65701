import { z } from "zod";
import { parseDelay, parseLoss, parseRate } from "./units";
import { vipShortage } from "./vips";
import { loadYaml11 } from "./yaml11";

/**
 * The experiment configuration, with Enos' reservation.yaml key names. Provider defaults are zod
 * defaults, so that they are merged under whatever the user wrote.
 */

const name = z.string().min(1);
const count = z.number().int().min(1);
const walltime = z
  .string()
  .regex(/^\d+:[0-5]\d:[0-5]\d$/, { message: "expected a walltime as hh:mm:ss, e.g. 02:00:00" });
const ipv4 = z.ipv4();
const cidr = z.cidrv4();
const yesNo = z.union([
  z.boolean(),
  z.enum(["yes", "no", "true", "false"]).transform((v) => v === "yes" || v === "true"),
]);

/**
 * Network of the testbed as a static description gives it (Enos' provider.network). Enos did not require extra_ips:
 * the VIPs it lacks come from the end of start..end (config/vips.ts).
 */
const staticNetwork = z
  .strictObject({
    extra_ips: z.array(ipv4).default([]),
    start: ipv4,
    end: ipv4,
    cidr,
    gateway: ipv4,
    dns: ipv4,
  })
  .superRefine((net, ctx) => {
    const shortage = vipShortage({ extraIps: net.extra_ips, start: net.start, end: net.end });
    if (shortage) ctx.addIssue({ code: "custom", message: shortage });
  });
/** An `eths` entry is an interface name, or a CIDR resolved on each host to the interface holding it. */
const eths = z.tuple([name, name], { message: "expected [api_interface, external_interface]" });

const local = z.strictObject({
  type: z.literal("local"),
  api_cidr: cidr.default("10.231.0.0/24"),
  external_cidr: cidr.default("10.232.0.0/24"),
  user: name.default("root"),
  /**
   * namespace: each host a network namespace with its own sshd, sharing this machine's filesystem (fast; no
   * Kolla deploy). machine: each host a container booting systemd, with its own filesystem, sshd and Docker engine.
   */
  hosts: z.enum(["namespace", "machine"]).default("namespace"),
});

const staticProvider = z.strictObject({
  type: z.literal("static"),
  network: staticNetwork,
  eths,
});

const g5k = z.strictObject({
  type: z.literal("g5k"),
  // The OAR job's name; an open job of the user's with it is reused. Unset: enos-<stack> (Enos: Enos,
  // which every experiment shared, so that one could take another's job).
  name: name.optional(),
  walltime: walltime.default("02:00:00"),
  env_name: name.default("debian12-min"),
  // Enos documented its default as Python's None.
  reservation: z.preprocess((v) => (v === "None" ? null : v), z.string().nullable()).default(null),
  // Enos' default was the YAML text '{rennes: "{type=kavlan}/vlan=1"}'; both forms are accepted.
  vlans: z
    .preprocess((v) => (typeof v === "string" ? loadYaml11(v) : v), z.record(name, name))
    .default({ rennes: "{type=kavlan}/vlan=1" }),
  role_distribution: z.enum(["strict", "debug"]).default("strict"),
  single_interface: z.boolean().default(false),
  user: name.default("root"),
  api_url: z.url().default("https://api.grid5000.fr/stable/"),
  // Not Enos keys: where the API credentials are when the stack has no enos:g5k_username/g5k_password,
  // and how often/how long to wait for a job to run and a deployment to end (seconds).
  credentials_file: name.default("~/.python-grid5000.yaml"),
  poll_interval: z.number().positive().default(10),
  wait_timeout: z.number().positive().default(7200),
  // Not an Enos key: how long a deployed node may take to answer SSH (seconds; Enos' wait_ssh).
  ssh_wait_timeout: z.number().nonnegative().default(300),
});

const VAGRANT_SIZES = ["tiny", "small", "medium", "big", "large", "extra-large"] as const;
const vagrant = z.strictObject({
  type: z.literal("vagrant"),
  backend: z.enum(["virtualbox", "libvirt"]).default("virtualbox"),
  box: name.default("debian/bookworm64"),
  user: name.default("root"),
});

const openstackFields = {
  configure_network: z.boolean().default(true),
  network: z.strictObject({ name }).default({ name: "enos-network" }),
  subnet: z.strictObject({ name, cidr: cidr.optional() }).default({ name: "enos-subnet", cidr: "10.87.23.0/24" }),
  dns_nameservers: z.array(ipv4).default(["8.8.8.8", "8.8.4.4"]),
  allocation_pool: z.strictObject({ start: ipv4, end: ipv4 }).default({ start: "10.87.23.10", end: "10.87.23.100" }),
  gateway: z.boolean().default(true),
  key_name: name,
  image_name: name,
  user: name,
  network_interface: name,
  // Not an Enos key: how long a new instance may take to answer SSH after ACTIVE (seconds; cloud-init
  // installs the key, then sshd starts; Enos' wait_ssh).
  ssh_wait_timeout: z.number().nonnegative().default(300),
};
const openstack = z.strictObject({ type: z.literal("openstack"), ...openstackFields });
const chameleonbaremetal = z.strictObject({
  ...openstackFields,
  type: z.literal("chameleonbaremetal"),
  // The Blazar lease's name; an open lease of the project with it is reused. Unset: enos-<stack>
  // (Enos: enos-lease, shared by every experiment).
  lease_name: name.optional(),
  walltime: walltime.default("02:00:00"),
  // Not Enos keys: how often/how long to wait for the lease to be ACTIVE (seconds).
  poll_interval: z.number().positive().default(10),
  wait_timeout: z.number().positive().default(3600),
  // A bare-metal node boots its image after ACTIVE.
  ssh_wait_timeout: z.number().nonnegative().default(900),
  image_name: name.default("CC-Ubuntu22.04"),
  user: name.default("cc"),
  configure_network: z.boolean().default(false),
  network: z.strictObject({ name }).default({ name: "sharednet1" }),
  subnet: z.strictObject({ name, cidr: cidr.optional() }).default({ name: "sharednet1-subnet" }),
  dns_nameservers: z.array(ipv4).default(["130.202.101.6", "130.202.101.37"]),
  network_interface: name.default("eno1"),
});
const chameleonkvm = z.strictObject({
  ...openstackFields,
  type: z.literal("chameleonkvm"),
  // Enos' shipped sample sets it; a KVM site leases nothing, so it is read and ignored, as Enos did.
  walltime: walltime.optional(),
  image_name: name.default("CC-Ubuntu22.04"),
  user: name.default("cc"),
  dns_nameservers: z.array(ipv4).default(["129.114.97.1", "129.114.97.2", "129.116.84.203"]),
  network_interface: name.default("ens3"),
});

export const PROVIDER_TYPES = [
  "local",
  "static",
  "g5k",
  "vagrant",
  "openstack",
  "chameleonbaremetal",
  "chameleonkvm",
] as const;
export const provider = z.preprocess(
  (value) => (typeof value === "string" ? { type: value } : value),
  z.discriminatedUnion("type", [local, staticProvider, g5k, vagrant, openstack, chameleonbaremetal, chameleonkvm], {
    error: (issue) =>
      issue.code === "invalid_union" && "discriminator" in issue
        ? `expected provider.type to be one of ${PROVIDER_TYPES.join(", ")}`
        : undefined,
  }),
);
export type ProviderConfig = z.output<typeof provider>;
export type ProviderType = ProviderConfig["type"];

/** A host of the static provider (docs/testbeds.md, Static); its alias defaults to its address. */
export const staticHost = z.strictObject({
  address: name,
  alias: name.optional(),
  user: name.optional(),
  keyfile: name.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  // `extra:` left empty in a file is YAML null.
  extra: z.preprocess((v) => v ?? {}, z.record(name, z.unknown())),
});
export type StaticHost = z.output<typeof staticHost>;

/** role -> one host or a list (static). */
export const staticRoles = z.record(name, z.union([staticHost, z.array(staticHost).min(1)]));
/** bucket (cluster, size, flavor, node type) -> role -> count. */
export const countedRoles = z.record(name, z.record(name, count));
/**
 * The local testbed has no buckets: role -> count, or bucket -> role -> count for files written for another testbed.
 */
export const localRoles = z.record(name, z.union([count, z.record(name, count)]));
export const vagrantRoles = z.record(
  z.string().refine((size) => (VAGRANT_SIZES as readonly string[]).includes(size), {
    message: `is not a vagrant size; sizes are ${VAGRANT_SIZES.join(", ")}`,
  }),
  z.record(name, count),
);

const constraint = z.strictObject({
  src: name,
  dst: name,
  delay: z.string().optional(),
  rate: z.string().optional(),
  loss: z.union([z.string(), z.number()]).optional(),
  symetric: yesNo.optional(),
  symmetric: yesNo.optional(),
});

export const networkConstraints = z
  .strictObject({
    enable: yesNo.default(true),
    default_delay: z.string(),
    default_rate: z.string(),
    default_loss: z.union([z.string(), z.number()]),
    constraints: z.array(constraint).default([]),
    except: z.array(name).default([]),
    /** Measure what the wire does after applying the rules (the `enos tc --test` of Enos) on every up. */
    test: yesNo.default(false),
    /**
     * Subtract half of each pair's measured base RTT from each direction's delay, so the end-to-end delay is what was
     * asked.
     */
    accurate: yesNo.default(false),
  })
  .superRefine((nc, ctx) => {
    const check = (parse: (v: string) => number, value: string | number | undefined, path: (string | number)[]) => {
      if (value === undefined) return;
      try {
        parse(String(value));
      } catch (error) {
        ctx.addIssue({ code: "custom", path, message: (error as Error).message, input: value });
      }
    };
    check(parseDelay, nc.default_delay, ["default_delay"]);
    check(parseRate, nc.default_rate, ["default_rate"]);
    check(parseLoss, nc.default_loss, ["default_loss"]);
    nc.constraints.forEach((c, i) => {
      check(parseDelay, c.delay, ["constraints", i, "delay"]);
      check(parseRate, c.rate, ["constraints", i, "rate"]);
      check(parseLoss, c.loss, ["constraints", i, "loss"]);
    });
  });

const patch = z.strictObject({
  name,
  src: name,
  dst: name,
  enabled: yesNo.default(true),
});

const registry = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("none") }),
    z
      .strictObject({
        type: z.literal("internal"),
        port: z.number().int().min(1).max(65535).default(4000),
        // The registry kolla's images are cached from (pull-through), or none: a plain registry that takes pushes.
        mirror: z
          .union([z.literal("none"), z.url({ protocol: /^https?$/, error: 'expected an http(s) URL or "none"' })])
          .default("https://quay.io"),
        // A `docker save` archive whose images the registry phase pushes into the registry (images no registry
        // serves, such as those kolla/images/build makes); a path relative to the file that sets it.
        images: z.string().min(1).optional(),
        // A tar of a registry's storage (docker/registry/v2/...) the registry starts from: images already pushed
        // and compressed, as a registry on persistent storage (ceph) keeps them; a path like images.
        store: z.string().min(1).optional(),
        ceph: yesNo.default(false),
        ceph_keyring: name.optional(),
        ceph_id: name.optional(),
        ceph_rbd: z
          .string()
          .regex(/^[^/]+\/[^/]+$/, { message: 'expected "pool/rbd"' })
          .optional(),
        ceph_mon_host: z.union([name, z.array(name)]).optional(),
      })
      .superRefine((r, ctx) => {
        if (!r.ceph) return;
        if (r.store !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["store"],
            message: "cannot go with ceph: true (the Ceph volume is the registry's storage); remove one of them",
          });
        for (const key of ["ceph_keyring", "ceph_id", "ceph_rbd", "ceph_mon_host"] as const) {
          if (r[key] === undefined)
            ctx.addIssue({ code: "custom", path: [key], message: `is required when ceph is true` });
        }
      }),
    z.strictObject({ type: z.literal("external"), ip: name, port: z.number().int().min(1).max(65535) }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union" ? "expected registry.type to be one of none, internal, external" : undefined,
  },
);

export const DEFAULT_INVENTORY = "inventories/inventory.sample";

/** A duration as Pulumi's customTimeouts read it (Go's time.ParseDuration): 90m, 4h, 1h30m. */
const duration = z
  .string()
  .regex(/^(\d+(\.\d+)?(h|m|s))+$/, { message: "expected a duration such as 30m, 4h or 1h30m" });

/**
 * How long one command of each phase may run before it is killed and the update fails (a hung host
 * must not hang `up`). Defaults fit a real Kolla deploy: pulling images over a slow link takes hours.
 */
const timeouts = z.strictObject({
  kolla: duration.default("4h"),
  init: duration.default("30m"),
  dev_cloud: duration.default("15m"),
  bench: duration.default("12h"),
  tc: duration.default("30m"),
  monitoring: duration.default("1h"),
  backup: duration.default("1h"),
});
export type PhaseTimeouts = z.output<typeof timeouts>;

/** Everything but resources/topology, whose shape depends on the provider (checked in load.ts). */
export const experiment = z.strictObject({
  provider,
  resources: z.unknown().optional(),
  topology: z.unknown().optional(),
  network_constraints: networkConstraints.optional(),
  kolla: z.record(name, z.unknown()).default({}),
  kolla_repo: name.optional(),
  kolla_ref: name.optional(),
  /**
   * deploy; check (render and check, start nothing); none (no OpenStack: testbed, tc, monitoring). Default: per
   * provider (load.ts).
   */
  kolla_mode: z.enum(["deploy", "check", "none"]).optional(),
  /**
   * The local testbed only: Debian's packaged OpenStack stands in for a Kolla deploy, started in the
   * control host's namespace after Kolla's check (components/dev-cloud.ts). Off unless asked (it
   * takes about a minute and 2.4 GB); on in the dev stack.
   */
  dev_cloud: yesNo.default(false),
  inventory: name.default(DEFAULT_INVENTORY),
  patches: z.array(patch).default([]),
  registry: registry.default({ type: "none" }),
  enable_monitoring: yesNo.default(false),
  workload: name.optional(),
  /**
   * Not an Enos key: the image init uploads as cirros.uec, an http(s) URL or a file (relative to the file
   * that sets it). Unset: cirros 0.6.2 from download.cirros-cloud.net (the dev cloud makes its own).
   */
  init_image: name.optional(),
  /** Any new value re-runs every benchmark of the workload (unchanged runs are otherwise not re-run). */
  bench_run_id: z.union([name, z.number()]).optional(),
  backup_on_destroy: yesNo.default(false),
  timeouts: timeouts.default(timeouts.parse({})),
  // Grid'5000 API credentials as stack config (the password a secret); read by the g5k testbed only.
  g5k_username: name.optional(),
  g5k_password: name.optional(),
});
export type ExperimentInput = z.output<typeof experiment>;
export type NetworkConstraintsConfig = z.output<typeof networkConstraints>;
export type RegistryConfig = z.output<typeof registry>;
export type PatchConfig = z.output<typeof patch>;
