"""The init phase (docs/phases.md, OpenStack init) through openstacksdk, in one process with one Keystone token: each
`openstack` command would spend seconds starting and authenticating.

  init.py OPTIONS.json   OS_* from the admin-openrc in the environment; OPTIONS is the JSON text
                         {"image": URL or file, "external": {cidr, start, end, gateway, dns},
                          "bootTimeout": seconds, "pollInterval": seconds}

Every object is looked up before it is made, so a second run makes only the smoke check's server.
One line per object says whether it was found or created; the last line is the smoke check's verdict.
"""
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

import keystoneauth1.exceptions
import openstack
from openstack import exceptions

IMAGE = "cirros.uec"
SMOKE_SERVER = "enos-smoke-check"
# name, RAM (MB), disk (GB), vCPUs
FLAVORS = [
    ("m1.tiny", 512, 1, 1),
    ("m1.small", 2048, 20, 1),
    ("m1.medium", 4096, 40, 2),
    ("m1.large", 8192, 80, 4),
    ("m1.xlarge", 16384, 160, 8),
]
ANYWHERE = "0.0.0.0/0"


@contextlib.contextmanager
def about(what):
    """Turns an API error into the phase's error, naming the object it was about."""
    try:
        yield
    except (exceptions.SDKException, keystoneauth1.exceptions.ClientException) as error:
        sys.exit(f"init: {what}: {error}")


def found_or_create(kind, name, find, create):
    """The object `find` returns, or the one `create` makes; prints which."""
    with about(f"{kind} {name}"):
        existing = find(name)
        if existing is not None:
            print(f"found {kind} {name}", flush=True)
            return existing
        made = create()
        print(f"created {kind} {name}", flush=True)
        return made


@contextlib.contextmanager
def image_file(source):
    """The image as a local file: `source` itself, or its download from an http(s) URL."""
    if not source.startswith(("http://", "https://")):
        yield source
        return
    with tempfile.NamedTemporaryFile(prefix="enos-cirros-") as file:
        with about(f"image {IMAGE} from {source}"):
            for attempt in range(1, 4):
                try:
                    with urllib.request.urlopen(source, timeout=60) as response:
                        file.seek(0)
                        file.truncate()
                        shutil.copyfileobj(response, file)
                    break
                except OSError as error:
                    # As curl --retry: a refused connection, a timeout or a 5xx is tried again, a 404 is not.
                    if attempt == 3 or isinstance(error, urllib.error.HTTPError) and error.code < 500:
                        raise exceptions.SDKException(f"download failed: {error}")
                    time.sleep(2)
        file.flush()
        yield file.name


def create_image(cloud, source):
    with image_file(source) as path:
        return cloud.image.create_image(
            IMAGE, filename=path, disk_format="qcow2", container_format="bare",
            visibility="public", architecture="x86_64", allow_duplicates=True)


def ensure_image(cloud, source, wait):
    """The active image: one an interrupted upload left (queued, killed, ...) is deleted and uploaded
    again, since every boot from it fails; one still being saved is waited for (`wait` seconds) first."""
    with about(f"image {IMAGE}"):
        for image in list(cloud.image.images(name=IMAGE)):
            if image.status in ("saving", "importing", "uploading"):
                print(f"image {IMAGE} {image.id} is {image.status}: waiting up to {wait}s for it", flush=True)
                with contextlib.suppress(exceptions.ResourceTimeout, exceptions.ResourceFailure):
                    cloud.image.wait_for_status(image, "active", failures=["killed"], wait=wait)
                image = cloud.image.get_image(image)
            if image.status == "active":
                print(f"found image {IMAGE}", flush=True)
                return image
            print(f"image {IMAGE} {image.id} is {image.status}, not active: deleting it, to upload it again",
                  flush=True)
            cloud.image.delete_image(image)
        made = create_image(cloud, source)
        print(f"created image {IMAGE}", flush=True)
        return made


def open_security_group(cloud, project_id):
    """The admin project's default security group, open to icmp, tcp and udp from anywhere."""
    with about("the admin project's default security group"):
        group = next(iter(cloud.network.security_groups(project_id=project_id, name="default")), None)
        if group is None:
            sys.exit("init: the admin project has no default security group")
        rules = list(cloud.network.security_group_rules(security_group_id=group.id, direction="ingress"))
    for protocol in ("icmp", "tcp", "udp"):
        # Neutron stores ports 1:65535 as "any port" (no range) and refuses a duplicate (409).
        ports = {} if protocol == "icmp" else {"port_range_min": 1, "port_range_max": 65535}
        same = [r for r in rules if r.protocol == protocol and r.remote_ip_prefix == ANYWHERE and r.ether_type == "IPv4"
                and (r.port_range_min, r.port_range_max) in ((None, None), (1, 65535))]
        what = f"security group rule default ingress {protocol} from {ANYWHERE}"
        if same:
            print(f"found {what}", flush=True)
            continue
        with about(what):
            cloud.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", ether_type="IPv4",
                protocol=protocol, remote_ip_prefix=ANYWHERE, **ports)
        print(f"created {what}", flush=True)


def set_quotas(cloud, project_id):
    """Setting a quota is idempotent: done on every run."""
    with about("quota class default (cores, ram, instances)"):
        cloud.compute.update_quota_class_set("default", cores=-1, ram=-1, instances=-1)
    print("set quota class default: cores, ram, instances unlimited", flush=True)
    # Nova's fixed/floating IP quotas are gone: Neutron's ports and floating IPs replace them. force:
    # Neutron (Zed) otherwise refuses -1 as "lower than the 0 already used" (`openstack quota set --force`).
    with about("quota of the admin project (floating IPs, ports)"):
        cloud.network.update_quota(project_id, floating_ips=-1, ports=-1, force=True)
    print("set quota of the admin project: floating IPs, ports unlimited", flush=True)


def make_networks(cloud, external):
    net = cloud.network
    public = found_or_create("network", "public", net.find_network, lambda: net.create_network(
        name="public", is_shared=True, is_router_external=True,
        provider_network_type="flat", provider_physical_network="physnet1"))
    found_or_create("subnet", "public-subnet", net.find_subnet, lambda: net.create_subnet(
        name="public-subnet", network_id=public.id, ip_version=4, cidr=external["cidr"],
        allocation_pools=[{"start": external["start"], "end": external["end"]}],
        gateway_ip=external["gateway"], dns_nameservers=[external["dns"]], is_dhcp_enabled=False))
    private = found_or_create("network", "private", net.find_network, lambda: net.create_network(
        name="private", provider_network_type="vxlan"))
    private_subnet = found_or_create("subnet", "private-subnet", net.find_subnet, lambda: net.create_subnet(
        name="private-subnet", network_id=private.id, ip_version=4, cidr="192.168.0.0/18",
        gateway_ip="192.168.0.1", dns_nameservers=[external["dns"]]))
    router = found_or_create("router", "router", net.find_router, lambda: net.create_router(name="router"))
    with about("router router's gateway on public"):
        if router.external_gateway_info:
            print("found router router's gateway", flush=True)
        else:
            net.update_router(router, external_gateway_info={"network_id": public.id})
            print("created router router's gateway on public", flush=True)
    with about("router router's interface on private-subnet"):
        if any(ip["subnet_id"] == private_subnet.id for port in net.ports(device_id=router.id) for ip in port.fixed_ips):
            print("found router router's interface on private-subnet", flush=True)
        else:
            net.add_interface_to_router(router, subnet=private_subnet.id)
            print("created router router's interface on private-subnet", flush=True)
    return private


def smoke_check(cloud, private, image, timeout, interval):
    """An m1.tiny cirros server on private must become ACTIVE; it is deleted either way."""
    compute = cloud.compute
    with about(f"server {SMOKE_SERVER}"):
        # A server left by an interrupted run goes first.
        left = compute.find_server(SMOKE_SERVER)
        if left is not None:
            compute.delete_server(left)
            compute.wait_for_delete(left, interval=max(interval, 1), wait=timeout)
            print(f"deleted server {SMOKE_SERVER} left by an earlier run", flush=True)
        server = compute.create_server(
            name=SMOKE_SERVER, flavor_id=compute.find_flavor("m1.tiny", ignore_missing=False).id,
            image_id=image.id, networks=[{"uuid": private.id}])
        print(f"created server {SMOKE_SERVER}", flush=True)
        start = time.monotonic()
        server = compute.get_server(server)
        while server.status not in ("ACTIVE", "ERROR") and time.monotonic() - start < timeout:
            time.sleep(interval)
            server = compute.get_server(server)
        waited = round(time.monotonic() - start)
        if server.status != "ACTIVE":
            fault = (server.fault or {}).get("message") or "none recorded"
            try:
                compute.delete_server(server)
                deleted = ""
            except exceptions.SDKException as error:
                deleted = f" (and deleting it failed: {error})"
            sys.exit(f"smoke check failed: server {SMOKE_SERVER} (m1.tiny, {IMAGE}, network private) "
                     f"is {server.status} after {waited}s; fault: {fault}{deleted}")
        compute.delete_server(server)
        compute.wait_for_delete(server, interval=max(interval, 1), wait=timeout)
    print(f"smoke check passed: an m1.tiny {IMAGE} server became ACTIVE on private in {waited}s", flush=True)


def main():
    options = json.loads(sys.argv[1])
    with about(f"Keystone at {os.environ.get('OS_AUTH_URL')}"):
        cloud = openstack.connect()
        project_id = cloud.current_project_id
    found_or_create("role", "member", cloud.identity.find_role, lambda: cloud.identity.create_role(name="member"))
    image = ensure_image(cloud, options["image"], options["bootTimeout"])
    for name, ram, disk, vcpus in FLAVORS:
        found_or_create("flavor", name, cloud.compute.find_flavor, lambda: cloud.compute.create_flavor(
            name=name, ram=ram, disk=disk, vcpus=vcpus, is_public=True))
    open_security_group(cloud, project_id)
    set_quotas(cloud, project_id)
    private = make_networks(cloud, options["external"])
    smoke_check(cloud, private, image, options["bootTimeout"], options["pollInterval"])


if __name__ == "__main__":
    main()
