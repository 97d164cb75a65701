import type { RegistryConfig } from "../config/schema";
import { asRoot, shellQuote } from "../config/shell";

/** Where the internal registry lives: Enos' registry VIP, held by the control host. */
export interface RegistryPlace {
  address: string;
  device: string;
}

const CONTAINER = "enos_registry";
const DATA = "/var/lib/enos-registry";
/** The images the archive held, one per line, as docker load named them. */
const LOADED = "/var/lib/enos-registry-images.list";
/** The registry's own image: an archive may hold it, for a host that cannot pull it (no Docker Hub). */
const REGISTRY_IMAGE = "registry:2";

/**
 * The internal registry: registry:2 as a pull-through cache of `mirror` (quay.io, where kolla's images
 * are), or a plain registry that takes pushes with `mirror: none`, on the control host, at the registry
 * VIP it takes as a /32 (the other hosts reach it on the same network). On the host's network, listening
 * on the VIP only (as Kolla runs its own containers): no published port, so no docker-proxy, bridge or
 * iptables rule is needed. With `ceph`, its storage is an RBD image, so that the cache outlives the
 * experiment.
 */
export function renderRegistryScript(
  registry: Extract<RegistryConfig, { type: "internal" }>,
  place: RegistryPlace,
): string {
  const mounts = registry.ceph
    ? [
        `dev=$(rbd map ${registry.ceph_rbd} --id ${registry.ceph_id} --keyring ${registry.ceph_keyring} -m ${[registry.ceph_mon_host].flat().join(",")})`,
        `mkdir -p ${DATA} && (mountpoint -q ${DATA} || mount "$dev" ${DATA})`,
      ]
    : [`mkdir -p ${DATA}`];
  return asRoot(
    "the internal registry",
    [
      "set -euo pipefail",
      `ip addr replace ${place.address}/32 dev ${place.device}`,
      ...mounts,
      `docker rm -f ${CONTAINER} >/dev/null 2>&1 || true`,
      `docker run -d --restart always --name ${CONTAINER} --network host -v ${DATA}:/var/lib/registry \\`,
      `  -e REGISTRY_HTTP_ADDR=${place.address}:${registry.port}${registry.mirror === "none" ? "" : ` -e REGISTRY_PROXY_REMOTEURL=${registry.mirror}`} ${REGISTRY_IMAGE}`,
    ].join("\n"),
  );
}

/** Where the registry phase copies a `registry.images` archive on the registry's host. */
export const PUSHED_ARCHIVE = "/var/tmp/enos-registry-images.tar";
/** Where it copies a `registry.store` archive. */
export const STORE_ARCHIVE = "/var/tmp/enos-registry-store.tar";

/**
 * Bash, run on this machine, that copies `archive` to the registry's host (`alias` in the experiment's
 * ssh_config) at `copy`, then runs `script` there as root, the copy removed whatever happens. A copy, not a
 * pipe: a non-root user's sudo reads the script itself on stdin.
 */
function copyThenRun(
  archive: string,
  copy: string,
  ssh: { config: string; alias: string },
  what: string,
  script: string[],
): string {
  const host = `ssh -F ${shellQuote(ssh.config)} ${shellQuote(ssh.alias)}`;
  const run = asRoot(what, ["set -euo pipefail", `trap 'rm -f ${copy}' EXIT`, ...script].join("\n"));
  return [
    "set -euo pipefail",
    `${host} ${shellQuote(`umask 077 && cat > ${copy}`)} < ${shellQuote(archive)}`,
    `${host} ${shellQuote(`bash -c ${shellQuote(run)}`)}`,
    "",
  ].join("\n");
}

/**
 * Loads the `registry.images` archive into the registry host's engine, noting the images it held. Before the
 * registry starts: the archive may hold registry:2 itself.
 */
export function renderRegistryLoadScript(images: string, ssh: { config: string; alias: string }): string {
  return copyThenRun(images, PUSHED_ARCHIVE, ssh, "loading images on the internal registry's host", [
    `loaded=$(docker load -i ${PUSHED_ARCHIVE})`,
    `printf '%s\\n' "$loaded" | sed -n 's/^Loaded image: //p' > ${LOADED}`,
    `[ -s ${LOADED} ] || { echo "enos: the archive holds no named image (docker load: $loaded)" >&2; exit 1; }`,
  ]);
}

/**
 * Unpacks the `registry.store` archive (a registry's storage: docker/registry/v2/...) as the registry's storage,
 * in place of what it held: the registry starts with those images, already compressed, and nothing is pushed.
 */
export function renderRegistryStoreScript(store: string, ssh: { config: string; alias: string }): string {
  return copyThenRun(store, STORE_ARCHIVE, ssh, "unpacking the internal registry's store", [
    `rm -rf ${DATA}/docker && mkdir -p ${DATA}`,
    `tar -x -C ${DATA} -f ${STORE_ARCHIVE}`,
    `[ -d ${DATA}/docker/registry/v2/repositories ] || { echo "enos: registry.store holds no registry storage (docker/registry/v2/repositories); kolla/images/build --output DIR makes one" >&2; exit 1; }`,
  ]);
}

/**
 * Pushes the images the archive held (but the registry's own) into the registry at `place` under their
 * own names (`openstack.kolla/keystone:<tag>` becomes `<vip>:<port>/openstack.kolla/keystone:<tag>`,
 * what kolla-ansible pulls with docker_registry set), as a Grid'5000 user's own images would already be
 * in the registry kolla-ansible pulls from.
 */
export function renderRegistryPushScript(
  registry: Extract<RegistryConfig, { type: "internal" }>,
  place: RegistryPlace,
): string {
  const target = `${place.address}:${registry.port}`;
  return asRoot(
    "pushing images into the internal registry",
    [
      "set -euo pipefail",
      `for image in $(grep -vxF ${REGISTRY_IMAGE} ${LOADED}); do`,
      `  docker tag "$image" "${target}/$image" && docker push -q "${target}/$image"`,
      "done",
    ].join("\n"),
  );
}

export function renderRegistryRemovalScript(
  registry: Extract<RegistryConfig, { type: "internal" }>,
  place: RegistryPlace,
): string {
  return asRoot(
    "removing the internal registry",
    [
      `docker rm -f ${CONTAINER} || true`,
      `rm -f ${LOADED}`,
      ...(registry.ceph
        ? [
            `umount ${DATA} || true`,
            `rbd unmap ${registry.ceph_rbd} --id ${registry.ceph_id} --keyring ${registry.ceph_keyring} || true`,
          ]
        : []),
      `ip addr del ${place.address}/32 dev ${place.device} || true`,
    ].join("\n"),
  );
}
