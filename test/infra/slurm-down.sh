#!/usr/bin/env bash
# slurm-down.sh — stop the four slurmd, slurmctld and munged started by slurm-up.sh, by pid file
# only, then remove the nodes' namespaces (and the bridge once nothing uses it).
# Queued/running jobs are cancelled first so no job step outlives its slurmd.
# SLURM_PURGE=1 also wipes the controller state (queued/finished jobs) and logs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/slurm-nodes.sh"
if command -v squeue >/dev/null && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  for u in $(squeue -h -o %u 2>/dev/null | sort -u); do scancel --quiet --user="$u" 2>/dev/null || true; done
  no_jobs() { [ -z "$(squeue -h 2>/dev/null)" ]; }
  wait_until 50 no_jobs || true
fi
for n in "${SLURM_NODES[@]}"; do stop_pidfile slurmd "$(node_pidfile "$n")"; done
stop_pidfile slurmd /run/slurmd.pid >/dev/null    # the single-node slurmd of earlier versions
stop_pidfile slurmctld /run/slurmctld.pid
stop_pidfile munged /run/munge/munged.pid
for n in "${SLURM_NODES[@]}"; do node_net_down "$n"; done
bridge_down_if_unused
if [ "${SLURM_PURGE:-0}" = 1 ]; then
  rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/* /var/log/slurm/*
  echo "slurm state purged"
fi
