"""Registers the dev cloud's services in Keystone, or waits until its compute host is ready.

register.py AUTH_URL ADDRESS               services, endpoints, the service project and users
register.py --wait-ready AUTH_URL ADDRESS  until nova-compute is up, in Placement, and its L2 agent alive
Passwords come from the environment (OS_PASSWORD: admin; SERVICE_PASSWORD: the service users').
Plain urllib: it runs with the system's python3 inside the cloud's namespace.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

SERVICES = [  # user, service type, port, path
    ("glance", "image", 9292, ""),
    ("nova", "compute", 8774, "/v2.1"),
    ("neutron", "network", 9696, ""),
    ("placement", "placement", 8778, ""),
]


def call(method, url, token=None, body=None, headers=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return response.headers, (json.loads(text) if text else None)


def admin_token(auth_url):
    headers, _ = call("POST", f"{auth_url}/auth/tokens", body={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": os.environ["OS_PASSWORD"]}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}})
    return headers["X-Subject-Token"]


def find_or_create(auth_url, token, collection, name, body, query=None):
    _, found = call("GET", f"{auth_url}/{collection}?{query or 'name=' + name}", token)
    if found[collection]:
        return found[collection][0]["id"]
    _, made = call("POST", f"{auth_url}/{collection}", token, {collection[:-1]: body})
    return made[collection[:-1]]["id"]


def register(auth_url, address):
    token = admin_token(auth_url)
    project = find_or_create(auth_url, token, "projects", "service", {"name": "service", "domain_id": "default"})
    roles = [find_or_create(auth_url, token, "roles", name, {"name": name}) for name in ("admin", "service")]
    for user, kind, port, suffix in SERVICES:
        user_id = find_or_create(auth_url, token, "users", user, {"name": user, "domain_id": "default", "password": os.environ["SERVICE_PASSWORD"]})
        call("PATCH", f"{auth_url}/users/{user_id}", token, {"user": {"password": os.environ["SERVICE_PASSWORD"]}})
        for role in roles:
            call("PUT", f"{auth_url}/projects/{project}/users/{user_id}/roles/{role}", token)
        service = find_or_create(auth_url, token, "services", kind, {"name": user, "type": kind}, query=f"type={kind}")
        for interface in ("public", "internal", "admin"):
            find_or_create(auth_url, token, "endpoints", "", {
                "service_id": service, "interface": interface, "region_id": "RegionOne", "url": f"http://{address}:{port}{suffix}",
            }, query=f"service_id={service}&interface={interface}")
    print("registered", ", ".join(s[1] for s in SERVICES))


def ready(auth_url, address):
    token = admin_token(auth_url)
    _, services = call("GET", f"http://{address}:8774/v2.1/os-services?binary=nova-compute", token)
    _, providers = call("GET", f"http://{address}:8778/resource_providers", token, headers={"OpenStack-API-Version": "placement 1.6"})
    _, agents = call("GET", f"http://{address}:9696/v2.0/agents?binary=neutron-linuxbridge-agent", token)
    state = {
        "nova-compute up": any(s["state"] == "up" for s in services["services"]),
        "resource provider": bool(providers["resource_providers"]),
        "linuxbridge agent alive": any(a["alive"] for a in agents["agents"]),
    }
    print(state, flush=True)
    return all(state.values())


def main():
    if sys.argv[1] == "--wait-ready":
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if ready(*sys.argv[2:4]):
                    return
            except (urllib.error.URLError, OSError, KeyError) as error:
                print("not yet:", error, flush=True)
            time.sleep(1)
        sys.exit("not ready after 180 s")
    register(*sys.argv[1:3])


main()
