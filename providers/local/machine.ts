import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { KERNEL_PROBE, parseKernelProbe } from "../../config/kernel";
import { PROJECT_DIR } from "../../config/paths";
import {
  claimSlot,
  deleteVethsScript,
  forgetHost,
  hostNetwork,
  hostProviderOf,
  type Inputs,
  type LocalHostInputs,
  type LocalHostOutputs,
  plugScript,
  replaceOnChange,
  slotOf,
  TestbedHost,
  vethsOf,
  waitForSsh,
} from "./host";
import { sh } from "./shell";

/**
 * Machine hosts of the local testbed: each host a privileged container booting systemd, with its own
 * filesystem, sshd and Docker engine, run by an engine of the stack's own (dockerd and containerd with
 * their own data root, sockets and cgroup parent, and no iptables rule, bridge or forwarding: the
 * machine's network stays as it was). Hosts join the stack's bridges by veths moved into their network
 * namespaces, as namespace hosts do. (Dynamic providers are serialized: node modules are required inside
 * the functions.)
 */

/** The runc wrapper both engines use where this machine's limits are below what Docker asks (see the script). */
export const FIT_RUNTIME = path.join(PROJECT_DIR, "scripts", "fresh-machine-runc");
/** Where a host sees the wrapper. */
const FIT_IN_HOST = "/usr/local/sbin/runc-fit";

/** The host image's tarball (scripts/machine-image builds it in scripts/setup; here only its path). */
export function machineTarball(): string {
  const { execFileSync }: typeof import("node:child_process") = require("node:child_process");
  const script = path.join(PROJECT_DIR, "scripts", "machine-image");
  try {
    return execFileSync(script, ["--path"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`provider.hosts machine: ${script} --path failed (${stderr || String(error)}); run scripts/setup`);
  }
}

/**
 * Whether this machine's capability bounding set lacks some capability the kernel knows: Docker 20.10
 * then fails to start a privileged container, and cannot raise hard rlimits (the wrapper's reason).
 */
export function boundingSetIsPartial(status: string, capLastCap: number): boolean {
  const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? "0"}`);
  return bounding !== (1n << BigInt(capLastCap + 1)) - 1n;
}

/** An engine's daemon.json: its settings, and the wrapper as default runtime where the machine needs it. */
export function daemonJson(settings: Record<string, unknown>, fitRuntime: string | undefined): string {
  const runtime = fitRuntime ? { "default-runtime": "fit", runtimes: { fit: { path: fitRuntime } } } : {};
  return JSON.stringify({ ...settings, ...runtime });
}

/**
 * The inner engine leaves the machine's network alone as the outer one does: no iptables rule, bridge or
 * forwarding; its containers use the host's network (as Kolla's do).
 */
export const INNER_ENGINE = { iptables: false, "ip-forward": false, "ip-masq": false, bridge: "none" };

/**
 * A host's PID 1: /proc/sys read-only but for /proc/sys/net (the host's own network namespace), so that
 * systemd and what runs on the host cannot set machine-wide kernel parameters (systemd raises
 * fs.file-max at boot), then systemd. On a cgroup v1 machine systemd is kept to v1 (legacy): in hybrid
 * mode it would mount the machine's cgroup2 hierarchy and make cgroups in it outside the container's.
 */
export function initCommand(cgroupV2: boolean): string[] {
  const readOnlySys = [
    "mount --bind /proc/sys /proc/sys",
    "mount -o remount,bind,ro /proc/sys",
    "mount --bind /proc/sys/net /proc/sys/net",
    "mount -o remount,bind,rw /proc/sys/net",
  ].join(" && ");
  const legacy = cgroupV2 ? [] : ["systemd.unified_cgroup_hierarchy=0", "systemd.legacy_systemd_cgroup_controller=1"];
  // Mounts shared, as systemd makes them on a machine but not in a container: Kolla's containers mount /run
  // (and /run/netns) with shared propagation. A new peer group of the host's own: nothing reaches the machine.
  return ["sh", "-c", `${readOnlySys} && mount --make-rshared / && exec /sbin/init "$@"`, "init", ...legacy];
}

/** A word quoted for bash. */
const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;

export interface MachineEngineInputs {
  /** Data root and logs (under the stack's local directory). */
  dir: string;
  /** Sockets, pid files, exec-root and containerd's state. */
  runDir: string;
  /** The cgroup (in every hierarchy) under which the hosts' cgroups are made. */
  cgroupParent: string;
  tarball: string;
  fitRuntime: string;
}

export interface MachineEngineOutputs extends MachineEngineInputs {
  /** The engine's socket, as DOCKER_HOST. */
  dockerHost: string;
  image: string;
  /** Whether runc goes through the wrapper (in this engine and in the hosts'). */
  fit: boolean;
  /** Whether this engine made /run/containerd (its shims put their sockets there): delete removes it if empty. */
  madeContainerdDir: boolean;
}

const dockerHostOf = (runDir: string) => `unix://${runDir}/docker.sock`;

/** The image's tag: the tarball's hash. */
const imageOf = (tarball: string) => `enos-machine:${path.basename(tarball, ".tar").split("-").pop()}`;

/**
 * Stops and removes whatever exists of an engine: its containers (with their volumes), dockerd, containerd,
 * their shims and anything left in its cgroups, its mounts, files and cgroups; returns once they are gone.
 * Also used by the tests' clean-up, to remove what a failed run left.
 */
export async function removeEngine(props: MachineEngineInputs & { madeContainerdDir?: boolean }): Promise<void> {
  const run = quote(props.runDir);
  // Under each v1 hierarchy, or at the top of a v2 one.
  const cgroups = `/sys/fs/cgroup/${props.cgroupParent} /sys/fs/cgroup/*/${props.cgroupParent}`;
  await sh(`
    export PATH="$PATH:/usr/sbin:/sbin" DOCKER_HOST=${quote(dockerHostOf(props.runDir))}
    if docker version >/dev/null 2>&1; then
      ids=$(docker ps -aq)
      [ -z "$ids" ] || docker rm -f -v $ids >/dev/null
    fi
    stop() {  # pid file: SIGTERM, then SIGKILL after 30 s
      local pid; pid=$(cat "$1" 2>/dev/null) || return 0
      kill "$pid" 2>/dev/null || return 0
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    }
    stop ${run}/dockerd.pid
    stop ${run}/containerd.pid
    # Shims of this engine's containerd (they name its socket), then anything still in its cgroups.
    for pid in $(pgrep containerd-shim || true); do
      if tr '\\0' ' ' < /proc/$pid/cmdline 2>/dev/null | grep -qF -- "-address ${props.runDir}/"; then
        kill -KILL $pid
      fi
    done
    for procs in $(find ${cgroups} -name cgroup.procs 2>/dev/null || true); do
      xargs -r kill -KILL < "$procs" 2>/dev/null || true
    done
    for mount in $(awk -v r=${quote(`${props.runDir}/`)} -v d=${quote(`${props.dir}/`)} \\
      'index($5 "/", r) == 1 || index($5 "/", d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
      umount -l "$mount"
    done
    rm -rf ${run} ${quote(props.dir)}
    for cgroup in ${cgroups}; do
      [ -d "$cgroup" ] || continue
      for _ in $(seq 50); do find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null && break; sleep 0.1; done
      if [ -d "$cgroup" ]; then
        echo "cgroup $cgroup cannot be removed; processes: $(find "$cgroup" -name cgroup.procs -exec cat {} +)" >&2
        exit 1
      fi
    done
    ${props.madeContainerdDir ? "rmdir /run/containerd/s /run/containerd 2>/dev/null || true" : ""}`);
}

async function startEngine(inputs: MachineEngineInputs): Promise<MachineEngineOutputs> {
  const fs: typeof import("node:fs") = require("node:fs");
  const madeContainerdDir = !fs.existsSync("/run/containerd");
  await removeEngine(inputs); // what an interrupted create left
  const fit = boundingSetIsPartial(
    fs.readFileSync("/proc/self/status", "utf8"),
    Number(fs.readFileSync("/proc/sys/kernel/cap_last_cap", "utf8")),
  );
  const { dir, runDir } = inputs;
  const outs = { ...inputs, dockerHost: dockerHostOf(runDir), image: imageOf(inputs.tarball), fit, madeContainerdDir };
  if (!fs.existsSync(inputs.tarball)) {
    throw new Error(`provider.hosts machine: no host image ${inputs.tarball}; run scripts/setup (it builds it)`);
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(
    `${runDir}/containerd.toml`,
    [
      "version = 2",
      `root = "${dir}/containerd"`,
      `state = "${runDir}/containerd"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = "${runDir}/containerd.sock"`,
      "",
    ].join("\n"),
  );
  fs.writeFileSync(`${runDir}/daemon.json`, daemonJson({}, fit ? inputs.fitRuntime : undefined));
  try {
    // Each in a session of its own: they outlive this provider, as a machine's engine does.
    await sh(`
      export PATH="$PATH:/usr/sbin:/sbin" DOCKER_HOST=${quote(outs.dockerHost)}
      setsid -f sh -c 'echo $$ > ${runDir}/containerd.pid; exec containerd --config ${runDir}/containerd.toml' \\
        > ${quote(`${dir}/containerd.log`)} 2>&1 < /dev/null
      setsid -f dockerd --config-file ${runDir}/daemon.json --data-root ${quote(`${dir}/docker`)} \\
        --exec-root ${runDir}/exec --pidfile ${runDir}/dockerd.pid --host "$DOCKER_HOST" \\
        --containerd ${runDir}/containerd.sock --cgroup-parent /${inputs.cgroupParent} --storage-driver overlay2 \\
        --iptables=false --ip-forward=false --ip-masq=false --bridge=none \\
        > ${quote(`${dir}/dockerd.log`)} 2>&1 < /dev/null
      for _ in $(seq 120); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
      docker version >/dev/null 2>&1 || { tail -n 20 ${quote(`${dir}/containerd.log`)} ${quote(`${dir}/dockerd.log`)} >&2
        echo "the machine hosts' dockerd did not start in 60 s (its log is above)" >&2; exit 1; }
      docker import ${quote(inputs.tarball)} ${outs.image} >/dev/null`);
  } catch (error) {
    await removeEngine(outs);
    throw error;
  }
  return outs;
}

export const engineProvider: pulumi.dynamic.ResourceProvider = {
  /** A create that fails leaves nothing: no process, mount, file or cgroup. */
  async create(inputs: MachineEngineInputs) {
    return { id: inputs.runDir, outs: await startEngine(inputs) };
  },

  async diff(_id: string, olds: MachineEngineOutputs, news: MachineEngineInputs) {
    return replaceOnChange<MachineEngineInputs>(olds, news);
  },

  async delete(_id: string, props: MachineEngineOutputs) {
    await removeEngine(props);
  },
};

export class MachineEngine extends pulumi.dynamic.Resource {
  public readonly dockerHost!: pulumi.Output<string>;
  public readonly image!: pulumi.Output<string>;
  public readonly fit!: pulumi.Output<boolean>;

  constructor(name: string, args: Inputs<MachineEngineInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      engineProvider,
      name,
      { ...args, dockerHost: undefined, image: undefined, fit: undefined, madeContainerdDir: undefined },
      opts,
      "enos",
      "MachineEngine",
    );
  }
}

/** A namespace host's inputs but its namespace (the container has one of its own), and: */
export interface MachineHostInputs extends Omit<LocalHostInputs, "namespace"> {
  /** Who logs in: root, or a user made on the host with sudo rights. */
  user: string;
  /** The engine's DOCKER_HOST, image and runtime. */
  dockerHost: string;
  image: string;
  fit: boolean;
  fitRuntime: string;
}

export type MachineHostOutputs = MachineHostInputs & Omit<LocalHostOutputs, keyof LocalHostInputs>;

/**
 * Removes whatever exists of this host: its veths, then its container (systemd shuts down within 30 s:
 * the host's engine stops its containers) with its volume, its files and, on delete, its slot.
 */
async function removeMachine(props: MachineHostInputs, releaseSlot: boolean) {
  const slot = slotOf(props.dir, props.alias);
  await sh(`${deleteVethsScript(slot === undefined ? [] : vethsOf(props.vethPrefix, slot))}
    export DOCKER_HOST=${quote(props.dockerHost)}
    if docker container inspect ${quote(props.alias)} >/dev/null 2>&1; then
      docker stop -t 30 ${quote(props.alias)} >/dev/null
      docker rm -f -v ${quote(props.alias)} >/dev/null
    fi`);
  forgetHost(props.dir, props.alias, releaseSlot);
}

async function makeMachine(inputs: MachineHostInputs): Promise<{ id: string; outs: MachineHostOutputs }> {
  const fs: typeof import("node:fs") = require("node:fs");
  const slot = claimSlot(inputs.dir, inputs.alias);
  await removeMachine(inputs, false); // what an interrupted create left
  const net = hostNetwork(inputs, slot);
  const hostDir = `${inputs.dir}/hosts/${inputs.alias}`;
  // The files the host starts with, copied into its container before it boots.
  const root = `${hostDir}/root`;
  fs.mkdirSync(`${root}/etc/ssh/sshd_config.d`, { recursive: true });
  fs.mkdirSync(`${root}/etc/ssh/authorized_keys`, { recursive: true });
  fs.mkdirSync(`${root}/etc/docker`, { recursive: true });
  fs.writeFileSync(`${root}/etc/ssh/authorized_keys/${inputs.user}`, `${inputs.authorizedKey}\n`, { mode: 0o644 });
  fs.writeFileSync(
    `${root}/etc/ssh/sshd_config.d/enos.conf`,
    "AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/authorized_keys/%u\nPasswordAuthentication no\n",
  );
  fs.writeFileSync(`${root}/etc/docker/daemon.json`, daemonJson(INNER_ENGINE, inputs.fit ? FIT_IN_HOST : undefined));
  const init = initCommand(fs.existsSync("/sys/fs/cgroup/cgroup.controllers")).map(quote).join(" ");
  const name = quote(inputs.alias);
  const addUser =
    inputs.user === "root"
      ? ""
      : `docker exec ${name} sh -c 'useradd --create-home --shell /bin/bash ${inputs.user} &&
          echo "${inputs.user} ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/enos && chmod 440 /etc/sudoers.d/enos'`;
  await sh(`
    export DOCKER_HOST=${quote(inputs.dockerHost)}
    ssh-keygen -q -t ed25519 -N '' -C ${name} -f ${root}/etc/ssh/ssh_host_ed25519_key
    # Its own cgroup namespace: what systemd and the host's engine make stays below the container's cgroups.
    # Its name resolves to its API address, as on a testbed's machine (Kolla's prechecks want that).
    docker create --name ${name} --hostname ${name} --add-host ${name}:${net.address} --privileged \\
      --cgroupns private --network none --tmpfs /run --tmpfs /run/lock --volume /var/lib/docker \\
      --stop-signal SIGRTMIN+3 \\
      ${inputs.fit ? `--volume ${quote(inputs.fitRuntime)}:${FIT_IN_HOST}:ro` : ""} ${inputs.image} ${init} >/dev/null
    docker cp ${root}/. ${name}:/
    docker start ${name} >/dev/null
    pid=$(docker inspect -f '{{.State.Pid}}' ${name})${plugScript(inputs, net, "$pid", 'nsenter -t "$pid" -n ip')}
    # Until systemd's bus is up, systemctl says nothing (or offline); then it waits for the boot's end.
    state=""
    for _ in $(seq 240); do
      state=$(timeout 120 docker exec ${name} systemctl is-system-running --wait 2>/dev/null || true)
      case $state in "" | offline) sleep 0.5 ;; *) break ;; esac
    done
    if [ "$state" != running ]; then
      echo "systemd on ${inputs.alias} is '$state', not running after 120 s:" >&2
      docker exec ${name} sh -c 'systemctl --failed --no-pager; journalctl -b --no-pager -n 40' >&2 ||
        docker logs ${name} >&2
      exit 1
    fi
    ${addUser}`);
  const kernel = parseKernelProbe(
    await sh(`docker -H ${quote(inputs.dockerHost)} exec -i ${name} bash -s <<'PROBE'
${KERNEL_PROBE}PROBE`),
  );
  await waitForSsh(net.address, inputs.alias);
  const hostKey = fs.readFileSync(`${root}/etc/ssh/ssh_host_ed25519_key.pub`, "utf8").trim();
  const outs: MachineHostOutputs = {
    ...inputs,
    slot,
    address: net.address,
    externalAddress: net.externalAddress,
    hostKey,
    kernel,
  };
  return { id: inputs.alias, outs };
}

/** Machine hosts: a failed create leaves no container, veth, file or slot. */
export const machineProvider = hostProviderOf<MachineHostInputs>(makeMachine, removeMachine);

export class MachineHost extends TestbedHost {
  constructor(name: string, args: Inputs<MachineHostInputs>, opts?: pulumi.CustomResourceOptions) {
    super(machineProvider, "MachineHost", name, args, opts);
  }
}
