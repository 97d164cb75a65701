import type { RegistryConfig } from "../config/schema";
import { asRoot, shellQuote } from "../config/shell";

/** Where the internal registry lives: Enos' registry VIP, held by the control host. */
export interface RegistryPlace {
  address: string;
  device: string;
}

const CONTAINER = "enos_registry";
const DATA = "/var/lib/enos-registry";

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
      `  -e REGISTRY_HTTP_ADDR=${place.address}:${registry.port}${registry.mirror === "none" ? "" : ` -e REGISTRY_PROXY_REMOTEURL=${registry.mirror}`} registry:2`,
    ].join("\n"),
  );
}

/** Where the registry phase copies a `registry.images` archive on the registry's host. */
export const PUSHED_ARCHIVE = "/var/tmp/enos-registry-images.tar";

/**
 * Loads the `docker save` archive PUSHED_ARCHIVE (copied to the registry's host, removed after) into the
 * host's engine and pushes each of its images into the registry at `place` under its own name
 * (`openstack.kolla/keystone:<tag>` becomes `<vip>:<port>/openstack.kolla/keystone:<tag>`, what
 * kolla-ansible pulls with docker_registry set), as a Grid'5000 user's own images would already be in
 * the registry kolla-ansible pulls from.
 */
export function renderRegistryPushScript(
  registry: Extract<RegistryConfig, { type: "internal" }>,
  place: RegistryPlace,
): string {
  const archive = PUSHED_ARCHIVE;
  const target = `${place.address}:${registry.port}`;
  return asRoot(
    "pushing images into the internal registry",
    [
      "set -euo pipefail",
      `trap 'rm -f ${archive}' EXIT`,
      `loaded=$(docker load -i ${archive})`,
      `images=$(printf '%s\\n' "$loaded" | sed -n 's/^Loaded image: //p')`,
      '[ -n "$images" ] || { echo "enos: the archive holds no named image (docker load: $loaded)" >&2; exit 1; }',
      "for image in $images; do",
      `  docker tag "$image" "${target}/$image" && docker push -q "${target}/$image"`,
      "done",
    ].join("\n"),
  );
}

/**
 * Bash, run on this machine, that copies the `registry.images` archive to the registry's host (`alias` in
 * the experiment's ssh_config) and pushes its images there (renderRegistryPushScript).
 */
export function renderRegistryImagesScript(
  registry: Extract<RegistryConfig, { type: "internal" }> & { images: string },
  place: RegistryPlace,
  ssh: { config: string; alias: string },
): string {
  const host = `ssh -F ${shellQuote(ssh.config)} ${shellQuote(ssh.alias)}`;
  const push = `bash -c ${shellQuote(renderRegistryPushScript(registry, place))}`;
  return [
    "set -euo pipefail",
    `${host} ${shellQuote(`umask 077 && cat > ${PUSHED_ARCHIVE}`)} < ${shellQuote(registry.images)}`,
    `${host} ${shellQuote(push)}`,
    "",
  ].join("\n");
}

export function renderRegistryRemovalScript(
  registry: Extract<RegistryConfig, { type: "internal" }>,
  place: RegistryPlace,
): string {
  return asRoot(
    "removing the internal registry",
    [
      `docker rm -f ${CONTAINER} || true`,
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
