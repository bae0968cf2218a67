# lib.sh — helpers shared by the test/infra scripts. Sourced, never run.
# Everything here is deliberately plain bash so the scripts work on a fresh Debian 12 machine.

# Root of all state the infra scripts create (pid files, keys, logs, generated configs).
# Kept under /tmp, outside the repo, so a `git status` in the work tree stays clean.
INFRA_DIR=${INFRA_DIR:-/tmp/clustrix-infra}
export DEBIAN_FRONTEND=noninteractive

# apt_install PKG... — install Debian packages, running `apt-get update` at most once:
# up.sh runs one update for all services and exports APT_UPDATED=1; a script run alone updates
# itself, because on a fresh machine the package lists may be missing or stale.
apt_install() {
  if [ "${APT_UPDATED:-0}" != 1 ]; then
    apt-get update -qq
    export APT_UPDATED=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# alive PIDFILE COMM — true if the pid in PIDFILE is a live (non-zombie) process whose
# /proc/PID/comm is exactly COMM. Why so strict: pids are reused quickly here (pid_max=32768),
# and PID 1 on this machine reaps orphans only every ~2 s, so a dead daemon lingers as a zombie.
alive() {
  local p
  p=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] \
    && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null
}

# pid_running PID — live and not a zombie.
pid_running() {
  [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# stop_pidfile COMM PIDFILE [TIMEOUT_TENTHS] — SIGTERM the process named in PIDFILE if (and only
# if) it is alive and really is COMM; wait for it, SIGKILL if it overstays; remove the pid file.
# Never kills by name (other engineers' processes run on the same machine).
stop_pidfile() {
  local comm=$1 pf=$2 max=${3:-100} pid i
  pid=$(cat "$pf" 2>/dev/null || true)
  if [ -n "$pid" ] && alive "$pf" "$comm"; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 "$max"); do pid_running "$pid" || break; sleep 0.1; done
    if pid_running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
      kill -9 "$pid" 2>/dev/null || true
    fi
    echo "$comm (pid $pid) stopped"
  else
    echo "$comm not running"
  fi
  rm -f "$pf"
}

# wait_until TENTHS CMD... — poll CMD every 0.1 s, up to TENTHS times; status of the last try.
wait_until() {
  local n=$1 i; shift
  for i in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@" >/dev/null 2>&1
}

# ---------- the cluster network: a bridge on this host ("the login node") ----------
# The SLURM compute nodes (slurm-nodes.sh) hang off this bridge, each in its own network
# namespace; this host is CLUSTER_LOGIN_ADDR on it. sshd and slurmctld listen there too, so the
# nodes reach the login node the way real compute nodes do: by its cluster-facing address.
CLUSTER_BRIDGE=clx-br0
CLUSTER_LOGIN_ADDR=10.202.0.1
CLUSTER_PREFIX=24

# bridge_up — create the bridge with this host's address on it (idempotent; needs iproute2, root).
bridge_up() {
  ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1 || ip link add "$CLUSTER_BRIDGE" type bridge
  [ "$(ip -4 -o addr show dev "$CLUSTER_BRIDGE" | awk '{print $4}')" = "$CLUSTER_LOGIN_ADDR/$CLUSTER_PREFIX" ] || {
    ip addr flush dev "$CLUSTER_BRIDGE"; ip addr add "$CLUSTER_LOGIN_ADDR/$CLUSTER_PREFIX" dev "$CLUSTER_BRIDGE"; }
  ip link set "$CLUSTER_BRIDGE" up
}

# bridge_down_if_unused — remove the bridge once no node is attached to it and sshd (which
# listens on its address) is not running from sshd-up.sh. Called by slurm-down.sh and sshd-down.sh.
bridge_down_if_unused() {
  ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1 || return 0
  [ -z "$(ip -o link show master "$CLUSTER_BRIDGE" 2>/dev/null)" ] || return 0
  alive "$INFRA_DIR/sshd/sshd.pid" sshd && return 0
  ip link del "$CLUSTER_BRIDGE" && echo "bridge $CLUSTER_BRIDGE removed"
}
