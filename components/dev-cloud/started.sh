# Sourced by up.sh and down.sh. A PID alone does not name a process: the kernel reuses it, and a reboot
# starts over. `started PID` prints what does: its start time (clock ticks since boot, the 22nd field
# of /proc/PID/stat, after the command name, which may hold spaces and parentheses) and this boot's id.
started() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # shellcheck disable=SC2086 # the fields after the command name, split on purpose
  set -- ${stat##*) }
  echo "${20} $(cat /proc/sys/kernel/random/boot_id)"
}
