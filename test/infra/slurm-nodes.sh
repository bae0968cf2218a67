# slurm-nodes.sh — the four SLURM compute nodes of the test cluster. Sourced (after lib.sh) by
# slurm-up.sh and slurm-down.sh, never run.
#
# Each node is one slurmd in its own network namespace and UTS namespace:
#   namespace cx-nodeN, veth clx-nN (host, on bridge clx-br0) <-> eth0 10.202.0.1N/24 (inside),
#   lo up, no default route; hostname cx-nodeN; /etc/netns/cx-nodeN/hosts (which
#   slurmd_up bind-mounts over /etc/hosts) names every node and this host (10.202.0.1, its real hostname).
# So inside a node 127.0.0.1 is the node's own loopback, the login node is 10.202.0.1, and the
# other nodes are 10.202.0.11-14. The mount namespace is a copy of the host's: the nodes share
# /home, /tmp, /usr and munged's socket in /run/munge, as nodes of a real cluster share NFS.
SLURM_NODES=(cx-node1 cx-node2 cx-node3 cx-node4)

node_addr() { echo "10.202.0.1${1#cx-node}"; }   # cx-node3 -> 10.202.0.13
node_pidfile() { echo "/run/slurmd-$1.pid"; }    # SlurmdPidFile=/run/slurmd-%n.pid in slurm.conf

# node_net_up NODE — its namespace, veth on the bridge, address, hosts file (idempotent).
node_net_up() {
  local n=$1 addr host_if="clx-n${1#cx-node}"
  addr=$(node_addr "$n")
  ip netns list | awk '{print $1}' | grep -qx "$n" || ip netns add "$n"
  ip -n "$n" link set lo up
  # half-built pair (host end without its peer inside, e.g. the namespace deleted by hand): rebuild
  if ip link show "$host_if" >/dev/null 2>&1 && ! ip -n "$n" link show eth0 >/dev/null 2>&1; then ip link del "$host_if"; fi
  ip link show "$host_if" >/dev/null 2>&1 || ip link add "$host_if" type veth peer name eth0 netns "$n"
  ip link set "$host_if" master "$CLUSTER_BRIDGE" up
  [ "$(ip -n "$n" -4 -o addr show dev eth0 | awk '{print $4}')" = "$addr/$CLUSTER_PREFIX" ] || {
    ip -n "$n" addr flush dev eth0; ip -n "$n" addr add "$addr/$CLUSTER_PREFIX" dev eth0; }
  ip -n "$n" link set eth0 up
  mkdir -p "/etc/netns/$n"
  {
    echo "127.0.0.1 localhost"
    echo "$CLUSTER_LOGIN_ADDR $(hostname -s) login"
    local m; for m in "${SLURM_NODES[@]}"; do echo "$(node_addr "$m") $m"; done
  } > "/etc/netns/$n/hosts.new"
  mv "/etc/netns/$n/hosts.new" "/etc/netns/$n/hosts"
}

# node_net_down NODE — remove its namespace (its veth pair goes with it) and hosts file.
node_net_down() {
  local n=$1
  if ip netns list | awk '{print $1}' | grep -qx "$n"; then ip netns del "$n"; echo "netns $n removed"; fi
  # the host end goes with the namespace, a moment later: only a half-built pair is left to delete
  if ip link show "clx-n${n#cx-node}" >/dev/null 2>&1; then ip link del "clx-n${n#cx-node}" 2>/dev/null || true; fi
  rm -rf "/etc/netns/$n"
}

# slurmd_up NODE — start its slurmd inside the node's namespaces unless it runs already.
# Not `ip netns exec`: it remounts /sys for the namespace, which hides the cgroup mounts slurmd
# needs ("No filesystem mounted on /sys/fs/cgroup"). So: enter the network namespace, then a new
# UTS namespace (the node's hostname, for slurmd and every job step it forks) and a mount
# namespace (slave: the host's later mounts still show) whose /etc/hosts is the node's.
# slurmd -N names the node whatever the hostname says; it forks into the background by itself.
slurmd_up() {
  local n=$1
  alive "$(node_pidfile "$n")" slurmd && return 0
  mkdir -p "/var/lib/slurm/slurmd/$n"     # SlurmdSpoolDir=/var/lib/slurm/slurmd/%n
  nsenter --net="/run/netns/$n" -- unshare --uts --mount --propagation slave -- \
    sh -c 'mount --bind "/etc/netns/$1/hosts" /etc/hosts && hostname "$1" && exec /usr/sbin/slurmd -N "$1"' sh "$n"
}

# node_ok NODE — SLURM sees the node in a state that runs jobs (comp = a job is completing).
node_state() { sinfo -h -N -n "$1" -o '%t' 2>/dev/null | head -1; }
node_ok() { case "$(node_state "$1")" in idle|mix|alloc|comp) return 0;; esac; return 1; }
