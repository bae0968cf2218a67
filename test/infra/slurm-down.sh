#!/usr/bin/env bash
# slurm-down.sh — stop slurmd, slurmctld and munged started by slurm-up.sh, by pid file only.
# Queued/running jobs are cancelled first so no job step outlives slurmd.
# SLURM_PURGE=1 also wipes the controller state (queued/finished jobs) and logs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
if command -v squeue >/dev/null && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  for u in $(squeue -h -o %u 2>/dev/null | sort -u); do scancel --quiet --user="$u" 2>/dev/null || true; done
  no_jobs() { [ -z "$(squeue -h 2>/dev/null)" ]; }
  wait_until 50 no_jobs || true
fi
stop_pidfile slurmd /run/slurmd.pid
stop_pidfile slurmctld /run/slurmctld.pid
stop_pidfile munged /run/munge/munged.pid
if [ "${SLURM_PURGE:-0}" = 1 ]; then
  rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/* /var/log/slurm/*
  echo "slurm state purged"
fi
