#!/usr/bin/env bash
# dask-down.sh — stop the dask-worker (nanny + its worker processes) and dask-scheduler started by
# dask-up.sh, by pid file only. SIGTERM to the nanny makes it close its worker processes itself.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
DIR=${DASK_DIR:-$INFRA_DIR/dask}
stop_pidfile dask-worker "$DIR/worker.pid" 150
stop_pidfile dask-scheduler "$DIR/scheduler.pid"
