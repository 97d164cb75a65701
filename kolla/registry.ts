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
