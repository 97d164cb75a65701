#!/usr/bin/env bash
# Stops the control plane up.sh started in DIR: first deletes every server (a cloud torn down under
# running instances leaves them behind: enos#249), then each daemon's process group by the PID in its pid
# file (TERM, then KILL after 20 s), waits until every one is gone, removes physnet1's veth, the
# admin-openrc's copy and DIR.
# Usage: down.sh DIR (needs `openstack` on PATH to delete servers). Leaves nothing; a DIR that does not exist is nothing to do.
set -uo pipefail
dir=$1
[ -d "$dir" ] || exit 0
# Instances first, while the APIs answer; a cloud that does not answer has none to delete.
if [ -f "$dir/admin-openrc.sh" ] && servers=$(. "$dir/admin-openrc.sh" && timeout 60 openstack server list --all-projects -f value -c ID 2>/dev/null); then
  if [ -n "$servers" ]; then
    echo "dev-cloud: deleting $(wc -w <<<"$servers") server(s) before stopping the cloud: $(echo $servers)" >&2
    (. "$dir/admin-openrc.sh" && timeout 120 openstack server delete --wait $servers) || echo "dev-cloud: could not delete every server" >&2
  fi
fi
groups=()
for file in "$dir"/run/*.pid; do
  [ -f "$file" ] || continue
  case $file in *.mysqld.pid | *.beam.pid) continue ;; esac   # the daemons' own pid files
  pid=$(cat "$file")
  # A group whose leader is gone may still hold its workers: signal the group, not the leader.
  kill -TERM -- "-$pid" 2>/dev/null && groups+=("$pid")
done
remaining() { local g; for g in "${groups[@]}"; do pgrep -g "$g" >/dev/null && echo "$g"; done; }
for _ in $(seq 100); do [ -z "$(remaining)" ] && break; sleep 0.2; done
for g in $(remaining); do kill -KILL -- "-$g" 2>/dev/null; done
for _ in $(seq 50); do [ -z "$(remaining)" ] && break; sleep 0.1; done
left=$(remaining)
[ -z "$left" ] || { echo "dev-cloud: process groups $left survive SIGKILL" >&2; exit 1; }
ns=$(cat "$dir/namespace" 2>/dev/null)
[ -z "$ns" ] || ! ip netns exec "$ns" ip link show devcloud-phys >/dev/null 2>&1 || ip netns exec "$ns" ip link del devcloud-phys
copy=$(cat "$dir/openrc-copy" 2>/dev/null)
[ -z "$copy" ] || { rm -f "$copy"; rmdir "$(dirname "$copy")" 2>/dev/null; }
rm -rf "$dir"
