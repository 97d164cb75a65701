import type { TestbedNetwork } from "../../config/types";
import { shellQuote } from "../../config/shell";

/** What the init phase makes in a fresh cloud (SPEC §4). */
export interface InitOptions {
  /** The admin-openrc file of the deployment. */
  openrc: string;
  /** Where cirros comes from: an http(s) URL, or a file on this machine. */
  image: string;
  /** The testbed's external pool: the public network's subnet. */
  external: TestbedNetwork["external"];
  /** How long the smoke check's server may take to become ACTIVE, and how often it is looked at (seconds). */
  bootTimeout?: number;
  pollInterval?: number;
}

export const DEFAULT_CIRROS_URL = "https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img";
export const IMAGE_NAME = "cirros.uec";
export const SMOKE_SERVER = "enos-smoke-check";
/** Prints a server's fault message (Nova's `fault.message`) through openstacksdk, from the OS_* variables (a found server carries no fault: it is read again by id). */
const READ_FAULT = "import openstack, sys; c = openstack.connect().compute; print((c.get_server(c.find_server(sys.argv[1], ignore_missing=False)).fault or {}).get('message', ''))";

/** name, RAM (MB), disk (GB), vCPUs */
export const FLAVORS: [string, number, number, number][] = [
  ["m1.tiny", 512, 1, 1],
  ["m1.small", 2048, 20, 1],
  ["m1.medium", 4096, 40, 2],
  ["m1.large", 8192, 80, 4],
  ["m1.xlarge", 16384, 160, 8],
];

function imageScript(image: string): string[] {
  const fetch = /^https?:\/\//.test(image)
    ? [`  image=$(mktemp); trap 'rm -f "$image"' EXIT`, `  curl -fsSL --retry 3 -o "$image" ${shellQuote(image)}`]
    : [`  image=${shellQuote(image)}`];
  return [
    `if ! exists image show ${IMAGE_NAME}; then`,
    ...fetch,
    `  openstack image create --disk-format qcow2 --container-format bare --public --property architecture=x86_64 --file "$image" ${IMAGE_NAME}`,
    "fi",
  ];
}

/**
 * The bash script that initialises a cloud with python-openstackclient (`openstack` on PATH), each
 * object looked up before it is created so that a second run creates nothing, and that ends with
 * the smoke check: an m1.tiny cirros server on `private` must become ACTIVE (the error carries its
 * fault otherwise), then it is deleted.
 */
export function renderInitScript(o: InitOptions): string {
  const { cidr, start, end, gateway, dns } = o.external;
  const timeout = o.bootTimeout ?? 300;
  const interval = o.pollInterval ?? 5;
  return [
    "set -euo pipefail",
    `set -a; source ${shellQuote(o.openrc)}; set +a`,
    'exists() { openstack "$@" >/dev/null 2>&1; }',
    "exists role show member || openstack role create member",
    ...imageScript(o.image),
    ...FLAVORS.map(([name, ram, disk, vcpus]) =>
      `exists flavor show ${name} || openstack flavor create --public --ram ${ram} --disk ${disk} --vcpus ${vcpus} ${name}`),
    // Every project has a security group named default: take the admin project's.
    'project=$(openstack project show "$OS_PROJECT_NAME" -f value -c id)',
    `sg=$(openstack security group list --project "$project" -f value -c ID -c Name | awk '$2 == "default" { print $1; exit }')`,
    '[ -n "$sg" ] || { echo "the admin project has no default security group" >&2; exit 1; }',
    `rules=$(openstack security group rule list "$sg" --ingress -f value -c "IP Protocol" -c "IP Range" -c "Port Range")`,
    `has_rule() { printf '%s\\n' "$rules" | grep -Eq "^$1 0\\.0\\.0\\.0/0 ?$2\\$"; }`,
    'has_rule icmp "" || openstack security group rule create "$sg" --ingress --protocol icmp --remote-ip 0.0.0.0/0',
    // Neutron stores ports 1:65535 as "any port": its rule lists with an empty port range.
    ...["tcp", "udp"].map((p) => `has_rule ${p} '(1:65535)?' || openstack security group rule create "$sg" --ingress --protocol ${p} --dst-port 1:65535 --remote-ip 0.0.0.0/0`),
    // Setting a quota is idempotent. Nova's fixed/floating IP quotas are gone: Neutron's ports and floating IPs replace them.
    "openstack quota set --class --cores -1 --ram -1 --instances -1 default",
    // --force: Neutron (Zed) otherwise refuses -1 as "lower than the 0 already used".
    'openstack quota set --force --floating-ips -1 --ports -1 "$project"',
    "exists network show public || openstack network create --share --external --provider-network-type flat --provider-physical-network physnet1 public",
    `exists subnet show public-subnet || openstack subnet create --network public --subnet-range ${cidr} --allocation-pool start=${start},end=${end} --gateway ${gateway} --dns-nameserver ${dns} --no-dhcp public-subnet`,
    "exists network show private || openstack network create --provider-network-type vxlan private",
    `exists subnet show private-subnet || openstack subnet create --network private --subnet-range 192.168.0.0/18 --gateway 192.168.0.1 --dns-nameserver ${dns} private-subnet`,
    "exists router show router || openstack router create router",
    "openstack port list --router router --device-owner network:router_gateway -f value -c ID | grep -q . || openstack router set --external-gateway public router",
    "openstack port list --router router --fixed-ip subnet=private-subnet -f value -c ID | grep -q . || openstack router add subnet router private-subnet",
    // The smoke check; a server left by an interrupted run goes first.
    `exists server show ${SMOKE_SERVER} && openstack server delete --wait ${SMOKE_SERVER}`,
    `openstack server create --flavor m1.tiny --image ${IMAGE_NAME} --network private ${SMOKE_SERVER} >/dev/null`,
    "waited=0",
    `while status=$(openstack server show ${SMOKE_SERVER} -f value -c status); [ "$status" != ACTIVE ] && [ "$status" != ERROR ] && [ $waited -lt ${timeout} ]; do`,
    `  sleep ${interval}; waited=$((waited + ${interval}))`,
    "done",
    'if [ "$status" != ACTIVE ]; then',
    // Clients before python-openstackclient 7 show a `fault` column; later ones do not, but their
    // openstacksdk (beside them in the venv) still reads it from Nova.
    `  fault=$(openstack server show ${SMOKE_SERVER} -f value -c fault 2>/dev/null || python3 -c ${shellQuote(READ_FAULT)} ${SMOKE_SERVER} 2>/dev/null || true)`,
    `  openstack server delete ${SMOKE_SERVER} || true`,
    `  echo "smoke check failed: server ${SMOKE_SERVER} (m1.tiny, ${IMAGE_NAME}, network private) is $status after \${waited}s; fault: \${fault:-none recorded}" >&2`,
    "  exit 1",
    "fi",
    `openstack server delete --wait ${SMOKE_SERVER}`,
    `echo "smoke check passed: an m1.tiny ${IMAGE_NAME} server became ACTIVE on private in \${waited}s"`,
    "",
  ].join("\n");
}
