#!/usr/bin/env bash
# dask-up.sh — idempotently install Debian's Dask distributed (2022.12) and start a scheduler on
# 127.0.0.1:$DASK_PORT with $DASK_WORKERS single-threaded worker processes: a real Dask server for
# side-by-side benchmarks (an in-process LocalCluster needs only the install part).
# PITFALL: Debian's modules live in /usr/lib/python3/dist-packages, seen by /usr/bin/python3 only;
# the `python3` first on root's PATH may be pyenv's, which cannot import them: always /usr/bin/python3.
# Even with --no-dashboard the scheduler/workers open an HTTP (health/metrics) port on 0.0.0.0;
# --dashboard-address 127.0.0.1:0 keeps those on loopback.
# Env overrides: DASK_PORT (8786), DASK_WORKERS (2), DASK_DIR (/tmp/clustrix-infra/dask).
# `dask-up.sh --needs-install` exits 0 if packages must be installed, 1 otherwise (for up.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PORT=${DASK_PORT:-8786}
NW=${DASK_WORKERS:-2}
DIR=${DASK_DIR:-$INFRA_DIR/dask}
PY=/usr/bin/python3

installed() { [ -x /usr/bin/dask-scheduler ] && [ -x /usr/bin/dask-worker ] && $PY -c 'import distributed' 2>/dev/null; }
if [ "${1:-}" = --needs-install ]; then installed && exit 1 || exit 0; fi
installed || apt_install python3-distributed python3-dask

mkdir -p "$DIR"
# The scripts are run directly (their #! is /usr/bin/python3), not as `python3 script`: then the
# kernel names the process after the script, so /proc/PID/comm is "dask-scheduler"/"dask-worker"
# and the pid files can be checked like any daemon's (with `python3 script` it would be "python3").
if ! alive "$DIR/scheduler.pid" dask-scheduler; then
  nohup /usr/bin/dask-scheduler --host 127.0.0.1 --port "$PORT" --no-dashboard \
    --dashboard-address 127.0.0.1:0 > "$DIR/scheduler.log" 2>&1 < /dev/null &
  echo $! > "$DIR/scheduler.pid"
fi
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
wait_until 100 port_open || { echo "dask-scheduler not listening" >&2; cat "$DIR/scheduler.log" >&2; exit 1; }
if ! alive "$DIR/worker.pid" dask-worker; then
  # one "nanny" process managing $NW worker processes, 1 thread each
  nohup /usr/bin/dask-worker "tcp://127.0.0.1:$PORT" --nworkers "$NW" --nthreads 1 \
    --host 127.0.0.1 --no-dashboard --dashboard-address 127.0.0.1:0 --local-directory "$DIR/work" \
    > "$DIR/worker.log" 2>&1 < /dev/null &
  echo $! > "$DIR/worker.pid"
fi
$PY - "$PORT" "$NW" <<'PYEOF' || { echo "dask check failed; worker log:" >&2; tail -30 "$DIR/worker.log" >&2; exit 1; }
import sys
from distributed import Client
c = Client(f"tcp://127.0.0.1:{sys.argv[1]}", timeout=30)
c.wait_for_workers(int(sys.argv[2]), timeout=60)
assert c.submit(lambda x: x + 1, 1).result() == 2
print(f"dask up: tcp://127.0.0.1:{sys.argv[1]} with {len(c.scheduler_info()['workers'])} workers")
c.close()
PYEOF
