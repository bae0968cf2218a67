#!/usr/bin/env bash
# up.sh [service...] — bring up the test infrastructure, timing each service.
#   services: sshd slurm sge pbs dask netns, or "all"
#   default:  sshd slurm sge pbs (+ dask when CLUSTRIX_INFRA_DASK=1: it is only for benchmarks)
# Idempotent: every *-up.sh leaves a running service alone (checked by pid file + /proc/PID/comm)
# and only reconfigures what changed, so running it twice is fine and fast (< 5 s).
# Runs `apt-get update` once, first, and only if some service still needs packages installed.
# On failure prints that service's log and exits with its status (netns: 2 = not permitted here).
# Logs: /tmp/clustrix-infra/logs/<service>-up.log. Afterwards: `. test/infra/env.sh`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ALL=(sshd slurm sge pbs dask netns)
if [ $# -eq 0 ]; then
  SERVICES=(sshd slurm sge pbs)
  [ "${CLUSTRIX_INFRA_DASK:-0}" = 1 ] && SERVICES+=(dask)
elif [ "$*" = all ]; then
  SERVICES=("${ALL[@]}")
else
  SERVICES=("$@")
fi
for s in "${SERVICES[@]}"; do
  [ -x "$HERE/$s-up.sh" ] || { echo "unknown service '$s' (known: ${ALL[*]})" >&2; exit 64; }
done
[ "$(id -u)" = 0 ] || { echo "up.sh must run as root (installs packages, starts daemons)" >&2; exit 1; }
LOGDIR=$INFRA_DIR/logs
mkdir -p "$LOGDIR"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

T_ALL=$(date +%s%N)
NEED=()
for s in "${SERVICES[@]}"; do "$HERE/$s-up.sh" --needs-install && NEED+=("$s"); done
if [ ${#NEED[@]} -gt 0 ]; then
  t0=$(date +%s%N)
  apt-get update -qq
  export APT_UPDATED=1      # the *-up.sh scripts then install without updating again
  echo "apt-get update in $(ms "$t0") ms (to install for: ${NEED[*]})"
fi
for s in "${SERVICES[@]}"; do
  t0=$(date +%s%N)
  rc=0
  "$HERE/$s-up.sh" > "$LOGDIR/$s-up.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    echo "$s-up.sh FAILED (exit $rc) after $(ms "$t0") ms; $LOGDIR/$s-up.log:" >&2
    cat "$LOGDIR/$s-up.log" >&2
    exit "$rc"
  fi
  echo "$s up in $(ms "$t0") ms"
done
echo "all up (${SERVICES[*]}) in $(ms "$T_ALL") ms; logs in $LOGDIR; now: . $HERE/env.sh"
