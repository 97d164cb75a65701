#!/usr/bin/env bash
# Stands up an OpenStack control plane from Debian's packages (scripts/setup installs them) inside a
# network namespace: MariaDB, RabbitMQ, Keystone, Glance, Placement, Nova (api, conductor, scheduler,
# compute with the fake driver) and Neutron (ML2/linuxbridge, with its agent), every daemon started
# by hand with configs, keys, data, logs and pid files under DIR, APIs on ADDRESS. No data plane: fake
# VMs, no DHCP/L3 agent. Stop it with down.sh DIR.
#
# It depends on nothing outside DIR but what the packages ship: every key repository, state, lock, log
# and policy path is set in DIR, and the paste pipelines and Glance's image schema are read where the
# packages ship them (/usr/share), not from the copies their scripts make in /etc (like
# /etc/keystone/fernet-keys, those exist on some machines only). Its processes get none of the
# caller's environment (no proxy, no OS_* variable, no other Python on PATH); the admin password goes
# only to keystone-manage bootstrap and register.py, through their environment. Every file is its
# owner's only (umask 077, the database's too), in 0700 directories.
#
# A stand-up that fails, is interrupted, or is killed (a cancel or a timeout kills its process group)
# stops every daemon it started and removes physnet1's veth; the logs stay in DIR/log. The error names
# the step that failed and its log, and prints the log's last lines.
#
# Usage: DEV_CLOUD_PASSWORD=... up.sh NAMESPACE DIR ADDRESS [OPENRC]
#   OPENRC: a copy of the admin-openrc (DIR/admin-openrc.sh) for the caller, e.g. where Kolla's would be.
#   DEV_CLOUD_CACHE: where snapshots of freshly migrated databases are kept (default
#   ~/.cache/enos-pulumi/dev-cloud); a snapshot is keyed on the packages' versions and this script.
set -euo pipefail
ns=$1 dir=$(realpath -m "$2") address=$3 openrc=$(realpath -m "${4:-$2/admin-openrc.sh}")
password=${DEV_CLOUD_PASSWORD:?DEV_CLOUD_PASSWORD must hold the admin password}
cache=$(realpath -m "${DEV_CLOUD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/enos-pulumi/dev-cloud}")
here=$(dirname "$(realpath "$0")")
. "$here/started.sh"
for name in $(compgen -e); do export -n "$name"; done
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=$dir LANG=C.UTF-8
umask 077
t0=$SECONDS
say() { printf '[dev-cloud %3ds] %s\n' $((SECONDS - t0)) "$*" >&2; }
# The step under way and its log (DIR/log/LOG.log): what the error of a failure names.
step="removing the previous cloud" steplog=
at() { step=$1 steplog=${2:+$dir/log/$2.log}; }

ip netns pids "$ns" >/dev/null 2>&1 || { echo "dev-cloud: no network namespace $ns" >&2; exit 1; }
# One stand-up at a time beside DIR: the guard of a killed one (below) may still be stopping its daemons.
mkdir -p "$(dirname "$dir")"
exec {lock}<"$(dirname "$dir")"
flock -w 300 "$lock" || { echo "dev-cloud: a stand-up in $(dirname "$dir") still runs after 300 s (fuser -v it)" >&2; exit 1; }
# A cloud already there (an interrupted create, or a failed one's logs) goes first: this script makes it anew.
[ ! -e "$dir" ] || "$here/down.sh" "$dir"
mkdir -p "$dir"/{etc/placement,log,run,lock,data/glance/{images,staging,tasks},keys/fernet,keys/credential,rabbitmq}
echo "$ns" >"$dir/namespace"   # for down.sh
cd "$dir"   # the daemons' working directory
# Killed, this script runs no trap: a guard in a session of its own (holding the lock) then stops what
# it started. It ends with the stand-up: at its success, or by the trap below.
setsid "$here/down.sh" --after $$ --keep-logs "$dir" >>"$dir/log/guard.log" 2>&1 </dev/null &
guard=$!
descendants() { local child; for child in $(pgrep -P "$1"); do descendants "$child"; echo "$child"; done; }
failed() {
  local status=$?
  [ "$status" != 0 ] || return 0
  set +e
  kill "$guard" 2>/dev/null; wait "$guard"
  # What runs in the background (migrations, bootstrap), then the daemons by their pid files.
  kill $(descendants $$) 2>/dev/null
  "$here/down.sh" --keep-logs "$dir"
  echo "dev-cloud: the stand-up failed at step \"$step\" (exit status $status); nothing it started runs; logs in $dir/log" >&2
  [ -z "$steplog" ] || { echo "dev-cloud: the last lines of $steplog:" >&2; tail -n 20 "$steplog" >&2; }
}
trap failed EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
in_ns() { ip netns exec "$ns" "$@"; }

# A daemon in the namespace, in a session of its own (down.sh stops its whole process group). It records
# itself (its PID and what down.sh checks before signalling it: started.sh) before it leaves this
# script's process group: killed with this script, it is either recorded or dead with it. Through
# exec only (ip, bash, setsid): the PID recorded is the daemon's. Without the lock: a daemon holding
# it would hold up the next stand-up.
daemon() {
  local name=$1; shift
  # A record of an earlier run of it (MariaDB runs twice on a first stand-up) would pass for this one's.
  rm -f "$dir/run/$name.pid"
  ip netns exec "$ns" bash -c '. "$1"; started $$ >"$2.start" && echo $$ >"$2.pid" && shift 2 && exec setsid "$@"' \
    daemon "$here/started.sh" "$dir/run/$name" "$@" >>"$dir/log/$name.log" 2>&1 </dev/null {lock}<&- &
  while [ ! -s "$dir/run/$name.pid" ] && kill -0 $! 2>/dev/null; do sleep 0.05; done
}
alive() { local pid; { read -r pid <"$dir/run/$1.pid"; } 2>/dev/null && kill -0 "$pid" 2>/dev/null; }
# Until the command succeeds, while the daemon runs.
wait_for() { # daemon, seconds, command...
  local name=$1 limit=$2; shift 2
  at "waiting for $name" "$name"
  for _ in $(seq $((limit * 5))); do
    alive "$name" || { echo "dev-cloud: $name exited" >&2; exit 1; }
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "dev-cloud: $name did not come up in ${limit}s" >&2
  exit 1
}
port_open() { in_ns bash -c "exec 3<>/dev/tcp/$1/$2"; }

# --- configuration -------------------------------------------------------------------------------
at configuration
db() { echo "mysql+pymysql://root@127.0.0.1/$1"; }
rabbit=rabbit://guest:guest@127.0.0.1:5672/
secret=$(head -c 24 /dev/urandom | base64 | tr -d '+/=')   # the service users' password
auth() { # keystone_authtoken / service client sections
  cat <<EOF
[$1]
auth_url = http://$address:5000/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $secret
region_name = RegionOne
EOF
  [ "$1" != keystone_authtoken ] || printf 'www_authenticate_uri = http://%s:5000/v3\nservice_token_roles_required = true\nmemcached_servers =\n' "$address"
}
local_paths() { # locks and policies in DIR
  # No policy file exists there: each service's policies in code (Debian's policy.d files are all comments).
  printf '[oslo_concurrency]\nlock_path = %s/lock\n[oslo_policy]\npolicy_file = %s/etc/policy.yaml\npolicy_dirs = %s/etc/policy.d\n' \
    "$dir" "$dir" "$dir"
}
common() { # [DEFAULT] and [database] of a service; $1: database name or "" (nova-compute has none)
  # A short graceful shutdown: down.sh waits for every daemon to end.
  printf '[DEFAULT]\ntransport_url = %s\nlog_dir = %s/log\nstate_path = %s/data\ndebug = false\ngraceful_shutdown_timeout = 5\n' "$rabbit" "$dir" "$dir"
  [ -z "$1" ] || printf '[database]\nconnection = %s\nmax_pool_size = 5\n' "$(db "$1")"
  local_paths
}

{ local_paths; cat <<EOF
[DEFAULT]
log_dir = $dir/log
[database]
connection = $(db keystone)
[fernet_tokens]
key_repository = $dir/keys/fernet
[fernet_receipts]
key_repository = $dir/keys/fernet
[credential]
key_repository = $dir/keys/credential
[token]
provider = fernet
[identity]
# bcrypt's fewest rounds: every password login (each openstack command, each Rally user) hashes once.
password_hash_rounds = 4
EOF
} >"$dir/etc/keystone.conf"
{ common glance; auth keystone_authtoken glance; cat <<EOF
[DEFAULT]
bind_host = $address
bind_port = 9292
workers = 1
node_staging_uri = file://$dir/data/glance/staging
enabled_backends = file:file
[glance_store]
default_backend = file
[file]
filesystem_store_datadir = $dir/data/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $dir/data/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $dir/data/glance/tasks
[paste_deploy]
flavor = keystone
config_file = /usr/share/glance-common/glance-api-paste.ini
EOF
} >"$dir/etc/glance-api.conf"
# Glance's image properties, found beside its config before /etc/glance's copy.
cp /usr/share/glance-common/schema-image.json "$dir/etc/"
{ common placement; auth keystone_authtoken placement; printf '[placement_database]\nconnection = %s\n[api]\nauth_strategy = keystone\n' "$(db placement)"; } >"$dir/etc/placement/placement.conf"
nova_services() { auth placement placement; auth neutron neutron; auth service_user nova | sed 's/^\[service_user\]/[service_user]\nsend_service_user_token = true/'; }
{ common nova; auth keystone_authtoken nova; nova_services; cat <<EOF
[DEFAULT]
enabled_apis = osapi_compute
osapi_compute_listen = $address
osapi_compute_workers = 1
my_ip = $address
api_paste_config = /usr/share/nova-common/api-paste.ini
[api_database]
connection = $(db nova_api)
[api]
auth_strategy = keystone
[conductor]
workers = 1
[scheduler]
workers = 1
[glance]
api_servers = http://$address:9292
[oslo_messaging_notifications]
driver = noop
EOF
} >"$dir/etc/nova.conf"
# nova-compute refuses a config with database sections.
{ common ""; nova_services; cat <<EOF
[DEFAULT]
host = devcloud-compute
# Started through python3 -c, it would log to "<string>.log".
log_file = nova-compute.log
compute_driver = fake.FakeDriver
my_ip = $address
[compute]
provider_config_location = $dir/etc/provider_config
[glance]
api_servers = http://$address:9292
[oslo_messaging_notifications]
driver = noop
EOF
} >"$dir/etc/nova-compute.conf"
{ common neutron; auth keystone_authtoken neutron; cat <<EOF
[DEFAULT]
bind_host = $address
bind_port = 9696
api_paste_config = /usr/share/neutron-common/api-paste.ini
core_plugin = ml2
service_plugins = router
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
[experimental]
linuxbridge = true
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = linuxbridge
extension_drivers = port_security
[ml2_type_flat]
flat_networks = physnet1
[ml2_type_vxlan]
vni_ranges = 1:1000
EOF
} >"$dir/etc/neutron.conf"
cat >"$dir/etc/linuxbridge-agent.conf" <<EOF
[DEFAULT]
transport_url = $rabbit
graceful_shutdown_timeout = 5
host = devcloud-compute
log_dir = $dir/log
state_path = $dir/data
[experimental]
linuxbridge = true
[agent]
root_helper =
[linux_bridge]
physical_interface_mappings = physnet1:devcloud-phys
[vxlan]
enable_vxlan = true
local_ip = $address
[securitygroup]
firewall_driver = noop
enable_security_group = false
[oslo_concurrency]
lock_path = $dir/lock
EOF

# A cirros-like image for init and the benchmarks (nothing can be downloaded here): an empty qcow2
# disk, which the fake driver boots as well as any. Also in the cache, at a path a Rally task can
# name (~/.cache/enos-pulumi/dev-cloud/cirros.qcow2).
at "the cirros-like image"
qemu-img create -q -f qcow2 "$dir/cirros.qcow2" 512M
mkdir -p "$cache"; [ -f "$cache/cirros.qcow2" ] || cp "$dir/cirros.qcow2" "$cache/cirros.qcow2"

# physnet1's interface (this kernel has no dummy links): a veth pair inside the namespace.
at "physnet1's veth"
in_ns ip link show devcloud-phys >/dev/null 2>&1 || in_ns ip link add devcloud-phys type veth peer name devcloud-physp
in_ns ip link set devcloud-phys up

# --- MariaDB and RabbitMQ ------------------------------------------------------------------------
# Only on the namespace's loopback, without grant tables: nothing outside the namespace reaches it.
# UMASK: the modes of its files (its own default is 0660).
mysqld() {
  at "starting mariadb" mariadb
  daemon mariadb env UMASK=0600 UMASK_DIR=0700 /usr/sbin/mariadbd --no-defaults --user=root --datadir="$dir/mysql" \
    --socket="$dir/run/mysql.sock" --pid-file="$dir/run/mariadb.mysqld.pid" --bind-address=127.0.0.1 --port=3306 \
    --skip-grant-tables --skip-name-resolve --innodb-buffer-pool-size=128M --innodb-log-file-size=16M \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --skip-log-bin --max-connections=500 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
  wait_for mariadb 60 in_ns mariadb --no-defaults --socket="$dir/run/mysql.sock" -e 'select 1'
}
sql() { in_ns mariadb --no-defaults --socket="$dir/run/mysql.sock" -e "$1"; }

# Every port on loopback: AMQP, epmd, and Erlang's distribution (inet_dist_use_interface).
at "starting rabbitmq" rabbitmq
echo '[].' >"$dir/rabbitmq/enabled_plugins"
printf 'loopback_users.guest = true\nlog.file.level = warning\n' >"$dir/rabbitmq/rabbitmq.conf"
echo '[{kernel, [{inet_dist_use_interface, {127,0,0,1}}]}].' >"$dir/rabbitmq/advanced.config"
daemon epmd /usr/bin/epmd -address 127.0.0.1
daemon rabbitmq env RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq/rabbitmq-env.conf" RABBITMQ_MNESIA_BASE="$dir/rabbitmq/mnesia" \
  RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5672 \
  RABBITMQ_DIST_PORT=25672 ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_PID_FILE="$dir/run/rabbitmq.beam.pid" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$dir/rabbitmq/enabled_plugins" RABBITMQ_CONFIG_FILE="$dir/rabbitmq/rabbitmq" \
  RABBITMQ_ADVANCED_CONFIG_FILE="$dir/rabbitmq/advanced.config" /usr/lib/rabbitmq/bin/rabbitmq-server

key=$( { dpkg-query -W mariadb-server keystone glance-api placement-api python3-nova python3-neutron; sed -n '/^# --- databases/,/^# --- end databases/p' "$here/up.sh"; } | sha256sum | cut -c1-16)
snapshot=$cache/db-$key.tar
if [ -f "$snapshot" ]; then
  say "databases from the snapshot $snapshot"
  at "unpacking the database snapshot $snapshot"
  tar -C "$dir" --no-same-permissions -xf "$snapshot"
  mysqld
else
# --- databases: the schemas every service migrates to (what the snapshot holds) -------------------
  say "databases: migrating (no snapshot yet)"
  at "mariadb-install-db" mariadb-install
  UMASK=0600 UMASK_DIR=0700 in_ns mariadb-install-db --no-defaults --user=root --datadir="$dir/mysql" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/log/mariadb-install.log" 2>&1
  mysqld
  at "creating the databases" mariadb
  for d in keystone glance placement nova_api nova nova_cell0 neutron; do sql "CREATE DATABASE $d"; done
  # Side by side: each has its own database. Nova's cell mappings hold 127.0.0.1 URLs, valid in any namespace.
  declare -A migrations
  migrate() { local name=$1; shift; "$@" >>"$dir/log/$name-manage.log" 2>&1 & migrations[$name]=$!; }
  nova_manage() { in_ns nova-manage --config-file "$dir/etc/nova.conf" "$@"; }
  migrate keystone in_ns keystone-manage --config-file "$dir/etc/keystone.conf" db_sync
  migrate glance in_ns glance-manage --config-file "$dir/etc/glance-api.conf" db_sync
  migrate placement in_ns placement-manage --config-file "$dir/etc/placement/placement.conf" db sync
  migrate neutron in_ns neutron-db-manage --config-file "$dir/etc/neutron.conf" upgrade heads
  nova_migrations() {
    nova_manage api_db sync && nova_manage cell_v2 map_cell0 --database_connection "$(db nova_cell0)" &&
      nova_manage cell_v2 create_cell --name cell1 && nova_manage db sync
  }
  migrate nova nova_migrations
  failed=
  for name in "${!migrations[@]}"; do wait "${migrations[$name]}" || failed=$name; done
  [ -z "$failed" ] || { at "the database migration of $failed" "$failed-manage"; exit 1; }
  # A consistent copy: MariaDB stopped.
  read -r mariadb_pid <"$dir/run/mariadb.pid"; kill "$mariadb_pid"; wait "$mariadb_pid" || true
  mkdir -p "$cache"; tar -C "$dir" -cf "$snapshot.tmp" mysql && mv "$snapshot.tmp" "$snapshot"
  say "databases migrated; snapshot in $snapshot"
  mysqld
fi
# --- end databases

say "databases ready"
# --- the services --------------------------------------------------------------------------------
# Fernet and credential keys as keystone-manage's fernet_setup would write them (a staged and a primary
# key), without its seconds of start-up.
for repo in fernet credential; do
  for i in 0 1; do head -c 32 /dev/urandom | base64 | tr '+/' '-_' >"$dir/keys/$repo/$i"; done
done
# The password by the environment of this one process (keystone-manage reads OS_BOOTSTRAP_PASSWORD):
# on its command line, any user would see it in ps.
OS_BOOTSTRAP_PASSWORD=$password ip netns exec "$ns" keystone-manage --config-file "$dir/etc/keystone.conf" bootstrap \
  --bootstrap-region-id RegionOne --bootstrap-admin-url "http://$address:5000/v3" \
  --bootstrap-internal-url "http://$address:5000/v3" --bootstrap-public-url "http://$address:5000/v3" \
  >>"$dir/log/keystone-manage.log" 2>&1 &
bootstrap=$!
# uWSGI's http-socket keeps no connection alive properly: every answer closes its connection.
uwsgi_app() { # name, port, wsgi script, extra env
  local name=$1 port=$2 script=$3; shift 3
  daemon "$name" env "$@" /usr/bin/uwsgi_python311 --http-socket "$address:$port" --wsgi-file "$script" --master --die-on-term \
    --processes 2 --threads 1 --add-header "Connection: close" --buffer-size 65535 --disable-logging --need-app
}
# Meanwhile, the daemons that need no Keystone until they serve a request.
at "starting the APIs and the L2 agent"
uwsgi_app keystone 5000 /usr/bin/keystone-wsgi-public OS_KEYSTONE_CONFIG_FILES="$dir/etc/keystone.conf"
uwsgi_app placement 8778 /usr/bin/placement-api OS_PLACEMENT_CONFIG_DIR="$dir/etc/placement"
daemon glance-api glance-api --config-file "$dir/etc/glance-api.conf"
daemon nova-api nova-api --config-file "$dir/etc/nova.conf"
daemon neutron-server neutron-server --config-file "$dir/etc/neutron.conf"
daemon neutron-linuxbridge-agent neutron-linuxbridge-agent --config-file "$dir/etc/linuxbridge-agent.conf"
at "keystone-manage bootstrap" keystone-manage
wait "$bootstrap"
wait_for keystone 60 port_open "$address" 5000

# Services, endpoints, service users (with the service role that tokens between services need).
at "registering the services in Keystone" register
OS_PASSWORD=$password SERVICE_PASSWORD=$secret ip netns exec "$ns" /usr/bin/python3 "$here/register.py" \
  "http://$address:5000/v3" "$address" >>"$dir/log/register.log" 2>&1
say "keystone up, services registered"
# Nova's scheduler, conductor and compute sign in at start (Placement): they need their service user,
# or they exit. The nova-compute package pulls ~300 packages (libvirt, qemu): python3-nova's entry
# point needs none of them.
at "starting nova's conductor, scheduler and compute"
daemon nova-conductor nova-conductor --config-file "$dir/etc/nova.conf"
daemon nova-scheduler nova-scheduler --config-file "$dir/etc/nova.conf"
daemon nova-compute /usr/bin/python3 -c 'import sys; sys.argv[0] = "nova-compute"; from nova.cmd.compute import main; sys.exit(main())' \
  --config-file "$dir/etc/nova-compute.conf"

at "writing the admin-openrc"
cat >"$dir/admin-openrc.sh" <<EOF
export OS_AUTH_URL=http://$address:5000/v3
export OS_IDENTITY_API_VERSION=3
export OS_PROJECT_DOMAIN_NAME=Default
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_NAME=admin
export OS_USERNAME=admin
export OS_PASSWORD='$password'
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
EOF
if ! [ "$openrc" -ef "$dir/admin-openrc.sh" ]; then
  mkdir -p "$(dirname "$openrc")"; cp "$dir/admin-openrc.sh" "$openrc"
  echo "$openrc" >"$dir/openrc-copy"   # down.sh removes it
fi

for s in glance-api:9292 placement:8778 nova-api:8774 neutron-server:9696; do
  wait_for "${s%:*}" 120 port_open "$address" "${s#*:}"
done
say "APIs answer"
# Ready when the compute host is in cell1 with its resources in Placement and its L2 agent alive.
at "waiting for the compute host (register.py --wait-ready; nova-compute.log says why)" register
OS_PASSWORD=$password ip netns exec "$ns" /usr/bin/python3 "$here/register.py" --wait-ready "http://$address:5000/v3" \
  "$address" >>"$dir/log/register.log" 2>&1
at "nova-manage cell_v2 discover_hosts" nova-manage
in_ns nova-manage --config-file "$dir/etc/nova.conf" cell_v2 discover_hosts >>"$dir/log/nova-manage.log" 2>&1
# Every daemon still runs (one that exited after its port opened would go unnoticed otherwise).
for file in "$dir"/run/*.start; do
  name=$(basename "$file" .start)
  alive "$name" || { at "$name exited" "$name"; exit 1; }
done
{ kill "$guard" && wait "$guard"; } 2>/dev/null || true   # the guard, if it still runs
# This cloud's identity (stdout): what was made in the last one is gone, and init must run again.
cat /proc/sys/kernel/random/uuid
say "up: keystone at http://$address:5000/v3, admin-openrc $openrc"
