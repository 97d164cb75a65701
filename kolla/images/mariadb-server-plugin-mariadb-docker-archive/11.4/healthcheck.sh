#!/bin/sh
# MariaDB's health as kolla-ansible asks it of the image (mariadb role: healthcheck.sh --defaults-file FILE
# --connect --galera_online): the script of MariaDB's docker image is on GitHub, not reachable here, so
# this one answers the same options the same way. kolla-build installs it from this directory (the path
# under 11.4/ is what its mariadb-server Dockerfile reads).
#   --connect        the server takes a connection from the user of the defaults file
#   --galera_online  this Galera node is Synced (wsrep_local_state 4), so it serves reads and writes
set -eu
client=""
checks=""
while [ $# -gt 0 ]; do
  case $1 in
    --defaults-file) client="--defaults-file=$2"; shift ;;
    --defaults-file=*) client=$1 ;;
    --connect | --galera_online) checks="$checks ${1#--}" ;;
    *) echo "healthcheck.sh: unknown option $1 (this one knows --defaults-file, --connect, --galera_online)" >&2; exit 2 ;;
  esac
  shift
done
query() { mariadb $client --batch --skip-column-names -e "$1"; }
for check in $checks; do
  case $check in
    connect) query 'SELECT 1' >/dev/null ;;
    galera_online)
      state=$(query "SHOW STATUS LIKE 'wsrep_local_state'" | cut -f2)
      [ "$state" = 4 ] || { echo "healthcheck.sh: wsrep_local_state is '$state', not 4 (Synced)" >&2; exit 1; } ;;
  esac
done
