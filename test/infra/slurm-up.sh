#!/usr/bin/env bash
# slurm-up.sh — idempotently install and start a single-node SLURM (Debian 12: 22.05.8) on this
# machine without systemd: munged + slurmctld (port 6817) + slurmd (port 6818), no slurmdbd.
# Writes /etc/slurm/slurm.conf (the default path, so sbatch/squeue need no SLURM_CONF) and only
# reconfigures the running daemons when that file really changed.
# Env overrides: SLURM_PARTITION (debug), SLURM_OVERSUBSCRIBE (FORCE:4, see below).
# `slurm-up.sh --needs-install` exits 0 if packages must be installed, 1 otherwise (for up.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PART=${SLURM_PARTITION:-debug}
# OverSubscribe=FORCE:4 (default here): every core may be shared by up to 4 jobs, so on this
# 2-core machine up to 8 single-CPU jobs RUN at the same time instead of queueing behind 2.
# Why: tests start several agents (one sbatch each, mostly idle waiting on a socket) and would
# otherwise wait for a slot or deadlock waiting on a peer that is still PENDING. Without gang
# scheduling (PreemptMode=OFF) the shared jobs simply all run and the kernel shares the CPU.
# What it does NOT change: one job still cannot ask for more CPUs than the node has (-c 3 is
# rejected at submit by EnforcePartLimits=ALL), and `--exclusive` jobs still get whole cores.
# SLURM_OVERSUBSCRIBE=NO gives strict one-job-per-core behaviour (e.g. for benchmarks).
OVERSUB=${SLURM_OVERSUBSCRIBE:-FORCE:4}
LOGDIR=/var/log/slurm

installed() { [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && [ -x /usr/sbin/munged ] && command -v sbatch >/dev/null; }
if [ "${1:-}" = --needs-install ]; then installed && exit 1 || exit 0; fi
# --no-install-recommends: 9 packages instead of 43 (skips hdf5/rrd/ipmi/... plugins)
installed || apt_install slurm-wlm munge

# ---------- munge (authenticates every SLURM message) ----------
# the package's postinst creates /etc/munge/munge.key; make one if it is missing
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge     # clients (every user running sbatch) connect to the socket in here
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! munge_ok; then
  if ! alive /run/munge/munged.pid munged; then
    # stale socket/lock files from a killed munged make the new one refuse to start
    rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    # munged forks into the background by itself; run it as the munge user (as the unit does)
    runuser -u munge -- /usr/sbin/munged
  fi
  wait_until 50 munge_ok || true
fi
munge_ok || { echo "munge not working" >&2; tail -20 /var/log/munge/munged.log >&2; exit 1; }

# ---------- slurm.conf ----------
HOST=$(hostname -s)
# the real hardware as slurmd sees it, e.g. "CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2
# ThreadsPerCore=1 RealMemory=24105"; declaring more than that would drain the node
HW=$(/usr/sbin/slurmd -C | head -1 | sed -E "s/^NodeName=[^ ]+ //")
mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd "$LOGDIR"
chown slurm:slurm /var/lib/slurm /var/lib/slurm/slurmctld "$LOGDIR"
cat > /etc/slurm/slurm.conf.new <<CONF
# single-node test cluster, written by test/infra/slurm-up.sh
ClusterName=localcluster
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# no cgroups: plain process tracking works in containers/VMs without systemd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SwitchType=switch/none
SchedulerType=sched/backfill
# cores are the unit; memory is not a consumable resource, so jobs never pend on memory
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# fast turnaround for tests: default batch_sched_delay=3 makes every sbatch wait ~3 s for a slot
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
# reject impossible requests at submit time instead of leaving them PENDING (PartitionConfig) forever
EnforcePartLimits=ALL
MailProg=/bin/true
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
# no slurmdbd: sacct -c reads the job-completion text file below
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGDIR/jobcomp.log
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
SlurmctldDebug=info
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdDebug=info
SlurmdLogFile=$LOGDIR/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 $HW State=UNKNOWN
PartitionName=$PART Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=$OVERSUB
CONF
CHANGED=0
if ! cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; then
  mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; CHANGED=1
else
  rm -f /etc/slurm/slurm.conf.new
fi
chmod 644 /etc/slurm/slurm.conf

ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
# ---------- slurmctld ----------
if alive /run/slurmctld.pid slurmctld; then
  # running daemons re-read slurm.conf (partition/scheduler changes apply; no job is lost)
  if [ "$CHANGED" = 1 ]; then scontrol reconfigure; echo "slurm.conf changed: reconfigured"; fi
else
  # forks by itself (no -D); runs as SlurmUser. No -c: keep saved state/jobs across restarts.
  /usr/sbin/slurmctld
fi
wait_until 100 ctld_up || { echo "slurmctld not up" >&2; tail -20 "$LOGDIR/slurmctld.log" >&2; exit 1; }

# ---------- slurmd ----------
alive /run/slurmd.pid slurmd || /usr/sbin/slurmd
node_state() { sinfo -h -n "$HOST" -o '%t' 2>/dev/null | head -1; }
node_ok() { case "$(node_state)" in idle|mix|alloc|comp) return 0;; esac; return 1; }  # comp = a job is completing
if ! wait_until 150 node_ok; then
  # e.g. drain/down after an unclean stop or a changed memory size: bring it back
  scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true
  wait_until 30 node_ok || true
fi
if node_ok; then
  echo "slurm up: node $HOST is $(node_state), partition $PART OverSubscribe=$OVERSUB"; sinfo
else
  echo "node $HOST is '$(node_state)'" >&2; scontrol show node "$HOST" >&2
  tail -20 "$LOGDIR/slurmd.log" >&2; exit 1
fi
