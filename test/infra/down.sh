#!/usr/bin/env bash
# down.sh [service...] — stop what up.sh started (default: all of it, including dask and the
# network namespace), in reverse dependency order. Stops only the processes named in the
# scripts' pid files, never by name. pbs has no daemon of its own (it is SLURM).
# Keeps installed packages, keys and the test user, so the next up.sh takes seconds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then set -- netns dask sge pbs slurm sshd; fi
rc=0
for s in "$@"; do
  case "$s" in
    pbs) echo "pbs: wrappers only, nothing to stop (slurm-down.sh stops SLURM)";;
    *) if [ -x "$HERE/$s-down.sh" ]; then "$HERE/$s-down.sh" || rc=$?
       else echo "unknown service '$s'" >&2; rc=64; fi;;
  esac
done
exit "$rc"
