#!/usr/bin/env bash
# netns-down.sh — remove the clx-compute namespace and its veth pair made by netns-up.sh.
# Deleting the namespace destroys the veth end inside it, which also deletes the host end; the
# explicit host-side delete covers a half-built pair. Processes still running inside the namespace
# (started with `ip netns exec`) keep it alive until they exit; they are not ours to kill.
set -euo pipefail
NS=clx-compute
HOST_IF=clx-login0
if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; then
  ip netns del "$NS"; echo "netns $NS removed"
else
  echo "netns $NS not present"
fi
if ip link show "$HOST_IF" >/dev/null 2>&1; then ip link del "$HOST_IF"; echo "veth $HOST_IF removed"; fi
