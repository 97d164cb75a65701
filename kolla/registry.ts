import type { RegistryConfig } from "../config/schema";
import { asRoot } from "../config/shell";

/** Where the internal registry lives: Enos' registry VIP, held by the control host. */
export interface RegistryPlace {
  address: string;
  device: string;
}

const CONTAINER = "enos_registry";
const DATA = "/var/lib/enos-registry";

/**
 * The internal registry: registry:2 as a pull-through cache of quay.io (kolla's images), on the
 * control host, at the registry VIP it takes as a /32 (the other hosts reach it on the same network). With
 * `ceph`, its storage is an RBD image, so that the cache outlives the experiment.
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
      `docker run -d --restart always --name ${CONTAINER} -p ${place.address}:${registry.port}:5000 -v ${DATA}:/var/lib/registry -e REGISTRY_PROXY_REMOTEURL=https://quay.io registry:2`,
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
