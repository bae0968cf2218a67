#!/usr/bin/env bash
# netns-up.sh — a network namespace that plays a compute node which can reach ONLY the login node:
#   namespace clx-compute, veth pair  host clx-login0 10.201.0.1/30  <->  clx-compute0 10.201.0.2/30
#   (in the namespace), loopback up inside, NO default route.
# So from inside, only 10.201.0.1 (this host, "the login node") is reachable, and 127.0.0.1 is the
# namespace's own loopback: a server bound on the host's 127.0.0.1 is NOT reachable from inside,
# one bound on 10.201.0.1 (or 0.0.0.0) is. Run a "compute node" process with
#   ip netns exec clx-compute CMD
# Sends no traffic anywhere: the only check is one ping of 10.201.0.1 from inside.
# Exit 2 (with a message) when namespaces cannot be created here (not root, no CAP_SYS_ADMIN /
# CAP_NET_ADMIN, or a kernel/sandbox without netns support). Idempotent; netns-down.sh removes it.
# `netns-up.sh --needs-install` exits 0 if packages must be installed, 1 otherwise (for up.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
NS=clx-compute
HOST_IF=clx-login0
NS_IF=clx-compute0
HOST_IP=10.201.0.1
NS_IP=10.201.0.2
PLEN=30

# iproute2 for `ip netns`; iputils-ping only for the reachability check below
installed() { command -v ip >/dev/null && ip netns list >/dev/null 2>&1 && command -v ping >/dev/null; }
if [ "${1:-}" = --needs-install ]; then installed && exit 1 || exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "netns-up.sh: must run as root to create network namespaces (try sudo)" >&2; exit 2
fi
if ! installed; then
  pkgs=()
  { command -v ip >/dev/null && ip netns list >/dev/null 2>&1; } || pkgs+=(iproute2)
  command -v ping >/dev/null || pkgs+=(iputils-ping)
  apt_install "${pkgs[@]}"
fi

cannot() {
  echo "netns-up.sh: cannot $1 here (needs CAP_SYS_ADMIN/CAP_NET_ADMIN and kernel netns/veth support;" \
       "unprivileged containers usually lack them)" >&2
  exit 2
}
# ---------- namespace ----------
if ! ip netns list | awk '{print $1}' | grep -qx "$NS"; then
  ip netns add "$NS" 2>/dev/null || cannot "create network namespace $NS"
fi
ip -n "$NS" link set lo up

# ---------- veth pair ----------
# A half-built pair (host side present, peer not in the namespace, e.g. after the namespace was
# deleted by hand) is removed and rebuilt; deleting one end of a veth deletes both.
if ip link show "$HOST_IF" >/dev/null 2>&1 && ! ip -n "$NS" link show "$NS_IF" >/dev/null 2>&1; then
  ip link del "$HOST_IF"
fi
if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
  ip link add "$HOST_IF" type veth peer name "$NS_IF" netns "$NS" 2>/dev/null || cannot "create veth pair $HOST_IF/$NS_IF"
fi
# `addr replace` is idempotent; flush first so no stale/extra address survives a re-run
[ "$(ip -4 -o addr show dev "$HOST_IF" | awk '{print $4}')" = "$HOST_IP/$PLEN" ] || {
  ip addr flush dev "$HOST_IF"; ip addr add "$HOST_IP/$PLEN" dev "$HOST_IF"; }
[ "$(ip -n "$NS" -4 -o addr show dev "$NS_IF" | awk '{print $4}')" = "$NS_IP/$PLEN" ] || {
  ip -n "$NS" addr flush dev "$NS_IF"; ip -n "$NS" addr add "$NS_IP/$PLEN" dev "$NS_IF"; }
ip link set "$HOST_IF" up
ip -n "$NS" link set "$NS_IF" up
# no default route inside: the only routes are the connected /30 and the namespace's loopback
while ip -n "$NS" route show default | grep -q .; do ip -n "$NS" route del default; done

# ---------- check: the login node answers from inside (link-up can take a moment) ----------
ns_ping() { ip netns exec "$NS" ping -c1 -W1 "$HOST_IP"; }
if ! wait_until 30 ns_ping; then
  echo "netns-up.sh: $HOST_IP does not answer from inside $NS" >&2
  ip -n "$NS" addr >&2; ip -n "$NS" route >&2; exit 1
fi
echo "netns $NS up: inside $NS_IP/$PLEN on $NS_IF, login node $HOST_IP on $HOST_IF, routes:"
ip -n "$NS" route | sed 's/^/  /'
