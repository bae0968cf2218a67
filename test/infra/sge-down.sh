#!/usr/bin/env bash
# sge-down.sh — stop sge_execd and sge_qmaster started by sge-up.sh, by their pid files only.
# Jobs stay in the spool and are rescheduled by the next sge-up.sh; SGE_PURGE=1 deletes them first.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
SPOOL=/var/spool/gridengine
# real binaries, skipping the /usr/bin wrappers' slow arch detection (see sge-up.sh)
if [ -x /usr/share/gridengine/util/arch ]; then
  SGE_ARCH=$(/usr/share/gridengine/util/arch)
  export SGE_ARCH PATH=/usr/lib/gridengine:$PATH
fi
if [ "${SGE_PURGE:-0}" = 1 ] && command -v qdel >/dev/null && qstat >/dev/null 2>&1; then
  qdel -f -u '*' >/dev/null 2>&1 || true
  sleep 1
fi
EPID=$(ls "$SPOOL"/execd/*/execd.pid 2>/dev/null | head -1 || true)
if [ -n "$EPID" ]; then
  # execd's pid file is removed by execd itself; stop_pidfile removes it too if it lingers
  stop_pidfile sge_execd "$EPID"
else
  echo "sge_execd not running"
fi
# qmaster takes ~5 s for its "controlled shutdown": allow 20 s before SIGKILL
stop_pidfile sge_qmaster "$SPOOL/qmaster/qmaster.pid" 200
