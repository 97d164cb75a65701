#!/usr/bin/env bash
# Stops the control plane up.sh started in DIR: first deletes every server (a cloud torn down under
# running instances leaves them behind: enos#249), then each daemon's process group by the PID in its pid
# file (TERM, then KILL after 20 s), waits until every one is gone, removes physnet1's veth, the
# admin-openrc's copy and DIR. A group is signalled only while it is still the daemon's: its leader,
# if it runs, started when up.sh recorded it, in the same boot (run/NAME.start, started.sh), and each of
# its processes is in the cloud's network namespace. After a reboot, or once the kernel has given the
# PID to another program, the group is left alone and named.
#
# Usage: down.sh [--keep-logs] [--after PID] DIR
#   --keep-logs: DIR/log stays (the rest goes), and no server is looked for (a failed stand-up made none).
#   --after PID: first waits for the process PID to end (up.sh's guard: up.sh stops it when it is done).
# Needs `openstack` on PATH to delete servers. A DIR that does not exist is nothing to do.
set -uo pipefail
. "$(dirname "$(realpath "$0")")/started.sh"
keep_logs= after=
while [ $# -gt 1 ]; do
  case $1 in
    --keep-logs) keep_logs=1; shift ;;
    --after) after=$2; shift 2 ;;
    *) break ;;
  esac
done
dir=$1
if [ -n "$after" ]; then
  id=$(started "$after")
  while [ -n "$id" ] && [ "$(started "$after")" = "$id" ]; do sleep 0.5; done
  echo "dev-cloud: the stand-up (PID $after) ended before it was done: stopping what it started"
fi
[ -d "$dir" ] || exit 0
# Instances first, while the APIs answer; a cloud that does not answer has none to delete.
if [ -z "$keep_logs" ] && [ -f "$dir/admin-openrc.sh" ] &&
  servers=$(. "$dir/admin-openrc.sh" && timeout 60 openstack server list --all-projects -f value -c ID 2>/dev/null); then
  if [ -n "$servers" ]; then
    echo "dev-cloud: deleting $(wc -w <<<"$servers") server(s) before stopping the cloud: $(echo $servers)" >&2
    (. "$dir/admin-openrc.sh" && timeout 120 openstack server delete --wait $servers) || echo "dev-cloud: could not delete every server" >&2
  fi
fi
ns=$(cat "$dir/namespace" 2>/dev/null)
netns=$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)
ours() { # PID, its .start file (pid files of an older up.sh have none: the namespace is all there is to check)
  local process inode
  [ -n "$netns" ] || return 1
  [ ! -f "$2" ] || [ ! -e "/proc/$1" ] || [ "$(started "$1")" = "$(cat "$2")" ] || return 1
  for process in $(pgrep -g "$1"); do
    inode=$(stat -L -c %i "/proc/$process/ns/net" 2>/dev/null) || continue   # ended meanwhile
    [ "$inode" = "$netns" ] || return 1
  done
}
stop() { # pid files: TERM to each group still the daemon's, KILL after 20 s; waits until all are gone
  local file pid groups=() g
  for file in "$@"; do
    [ -f "$file" ] || continue
    read -r pid <"$file"
    if ! ours "$pid" "${file%.pid}.start"; then
      { [ -e "/proc/$pid" ] || pgrep -g "$pid" >/dev/null; } &&
        echo "dev-cloud: $file names PID $pid, no longer the daemon up.sh started there (another boot, a PID reused, or not in namespace ${ns:-?}): left alone" >&2
      continue
    fi
    # A group whose leader is gone may still hold its workers: signal the group, not the leader.
    kill -TERM -- "-$pid" 2>/dev/null && groups+=("$pid")
  done
  remaining() { for g in "${groups[@]}"; do pgrep -g "$g" >/dev/null && echo "$g"; done; }
  for _ in $(seq 100); do [ -z "$(remaining)" ] && break; sleep 0.2; done
  for g in $(remaining); do kill -KILL -- "-$g" 2>/dev/null; done
  for _ in $(seq 50); do [ -z "$(remaining)" ] && break; sleep 0.1; done
  [ -z "$(remaining)" ] || { echo "dev-cloud: process groups $(remaining) survive SIGKILL" >&2; exit 1; }
}
# epmd last: the Erlang of a stopping RabbitMQ would start one of its own, outside every group, without it.
# (*.mysqld.pid and *.beam.pid are the pid files MariaDB and RabbitMQ write themselves.)
daemons=()
for file in "$dir"/run/*.pid; do
  case $file in *.mysqld.pid | *.beam.pid | */epmd.pid) ;; *) daemons+=("$file") ;; esac
done
stop "${daemons[@]}"
stop "$dir/run/epmd.pid"
[ -z "$ns" ] || ! ip netns exec "$ns" ip link show devcloud-phys >/dev/null 2>&1 || ip netns exec "$ns" ip link del devcloud-phys
copy=$(cat "$dir/openrc-copy" 2>/dev/null)
[ -z "$copy" ] || { rm -f "$copy"; rmdir "$(dirname "$copy")" 2>/dev/null; }
if [ -n "$keep_logs" ]; then
  find "$dir" -mindepth 1 -maxdepth 1 ! -name log -exec rm -rf {} +
else
  rm -rf "$dir"
fi
