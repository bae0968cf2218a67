#!/usr/bin/env bash
# slurm-up.sh — idempotently install and start a four-node SLURM (Debian 12: 22.05.8) on this
# machine without systemd: munged + slurmctld (port 6817, this host) + four slurmd (port 6818),
# each in its own network + UTS namespace (slurm-nodes.sh): nodes cx-node1..4 at 10.202.0.11-14
# on the bridge clx-br0, where this host (the login node, slurmctld) is 10.202.0.1. No slurmdbd.
# Writes /etc/slurm/slurm.conf (the default path, so sbatch/squeue need no SLURM_CONF) and only
# reconfigures the running daemons when that file really changed (a changed node list restarts
# slurmctld, keeping its saved state: queued jobs survive).
# Env overrides: SLURM_PARTITION (debug), SLURM_OVERSUBSCRIBE (FORCE:4, see below).
# `slurm-up.sh --needs-install` exits 0 if packages must be installed, 1 otherwise (for up.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/slurm-nodes.sh"
PART=${SLURM_PARTITION:-debug}
# CPUs: each node declares the 2 real cores (what slurmd -C sees inside its namespace: the four
# nodes share them) and a quarter of the memory. OverSubscribe=FORCE:4 (default here): every core
# may be shared by up to 4 jobs, so each node runs up to 8 single-CPU jobs, 32 in all, instead
# of queueing.
# Why: tests start several agents (one sbatch each, mostly idle waiting on a socket) and would
# otherwise wait for a slot or deadlock waiting on a peer that is still PENDING. Without gang
# scheduling (PreemptMode=OFF) the shared jobs simply all run and the kernel shares the CPU.
# What it does NOT change: one job still cannot ask for more CPUs than the node has (-c 3 is
# rejected at submit by EnforcePartLimits=ALL), and `--exclusive` jobs still get whole cores.
# SLURM_OVERSUBSCRIBE=NO gives strict one-job-per-core behaviour (e.g. for benchmarks).
OVERSUB=${SLURM_OVERSUBSCRIBE:-FORCE:4}
LOGDIR=/var/log/slurm

installed() {
  [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && [ -x /usr/sbin/munged ] && command -v sbatch >/dev/null \
    && command -v ip >/dev/null && command -v nsenter >/dev/null
}
if [ "${1:-}" = --needs-install ]; then installed && exit 1 || exit 0; fi
# --no-install-recommends: 9 packages instead of 43 (skips hdf5/rrd/ipmi/... plugins)
installed || apt_install slurm-wlm munge iproute2 util-linux

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

# ---------- the nodes' network: bridge, namespaces, addresses, hosts files ----------
bridge_up
for n in "${SLURM_NODES[@]}"; do node_net_up "$n"; done

# ---------- slurm.conf ----------
HOST=$(hostname -s)
# the real hardware as slurmd sees it, e.g. "CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2
# ThreadsPerCore=1 RealMemory=24105"; declaring more than that would drain a node. Memory is split
# four ways (it is not a consumable resource here, so this only sets what jobs are told).
HW=$(/usr/sbin/slurmd -C | head -1 | sed -E "s/^NodeName=[^ ]+ //")
MEM=$(sed -nE 's/.*RealMemory=([0-9]+).*/\1/p' <<<"$HW")
HW=$(sed -E "s/RealMemory=[0-9]+/RealMemory=$(( MEM / ${#SLURM_NODES[@]} ))/" <<<"$HW")
mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd "$LOGDIR"
chown slurm:slurm /var/lib/slurm /var/lib/slurm/slurmctld "$LOGDIR"
{
cat <<CONF
# four-node test cluster, written by test/infra/slurm-up.sh (nodes: slurm-nodes.sh)
ClusterName=localcluster
# the login node as the compute nodes reach it (127.0.0.1 is each node's own loopback)
SlurmctldHost=$HOST($CLUSTER_LOGIN_ADDR)
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
# one slurmd per node on one machine: %n (the node name) keeps their files apart
SlurmdPidFile=/run/slurmd-%n.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd/%n
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
SlurmdLogFile=$LOGDIR/slurmd-%n.log
CONF
for n in "${SLURM_NODES[@]}"; do echo "NodeName=$n NodeAddr=$(node_addr "$n") $HW State=UNKNOWN"; done
# LLN: a new job goes to the least loaded node, so the jobs of a test (and the elements of an
# array) spread over the nodes instead of filling cx-node1's 8 oversubscribed slots first.
echo "PartitionName=$PART Nodes=cx-node[1-${#SLURM_NODES[@]}] Default=YES MaxTime=INFINITE State=UP OverSubscribe=$OVERSUB LLN=YES"
} > /etc/slurm/slurm.conf.new
CHANGED=0 NODES_CHANGED=0
if ! cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; then
  # SLURM 22.05 cannot add or remove nodes (or move slurmctld's address) by `scontrol reconfigure`
  nodes_of() { grep -E '^(NodeName|SlurmctldHost)=' "$1" 2>/dev/null | sed -E 's/ (CPUs|RealMemory)=[^ ]+//g'; }
  [ "$(nodes_of /etc/slurm/slurm.conf.new)" = "$(nodes_of /etc/slurm/slurm.conf)" ] || NODES_CHANGED=1
  mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; CHANGED=1
else
  rm -f /etc/slurm/slurm.conf.new
fi
chmod 644 /etc/slurm/slurm.conf

ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
# ---------- slurmctld ----------
# The single-node slurmd of earlier versions of this recipe (on this host, /run/slurmd.pid) is
# not a node any more.
stop_pidfile slurmd /run/slurmd.pid >/dev/null
if alive /run/slurmctld.pid slurmctld && [ "$NODES_CHANGED" = 1 ]; then
  # no -c on restart: the saved state (queued jobs) is kept; jobs on removed nodes are lost
  echo "node list changed: restarting slurmctld"
  stop_pidfile slurmctld /run/slurmctld.pid
fi
if alive /run/slurmctld.pid slurmctld; then
  # running daemons re-read slurm.conf (partition/scheduler changes apply; no job is lost)
  if [ "$CHANGED" = 1 ]; then scontrol reconfigure; echo "slurm.conf changed: reconfigured"; fi
else
  # forks by itself (no -D); runs as SlurmUser. No -c: keep saved state/jobs across restarts.
  /usr/sbin/slurmctld
fi
wait_until 100 ctld_up || { echo "slurmctld not up" >&2; tail -20 "$LOGDIR/slurmctld.log" >&2; exit 1; }

# ---------- slurmd, one per node ----------
for n in "${SLURM_NODES[@]}"; do
  # a slurmd that read the old node list would not know its peers: restart it (its job steps,
  # run by slurmstepd, carry on)
  [ "$NODES_CHANGED" = 1 ] && stop_pidfile slurmd "$(node_pidfile "$n")" >/dev/null
  slurmd_up "$n"
done
for n in "${SLURM_NODES[@]}"; do
  if ! wait_until 150 node_ok "$n"; then
    # e.g. drain/down after an unclean stop or a changed memory size: bring it back
    scontrol update NodeName="$n" State=RESUME 2>/dev/null || true
    wait_until 30 node_ok "$n" || true
  fi
  if ! node_ok "$n"; then
    echo "node $n is '$(node_state "$n")'" >&2; scontrol show node "$n" >&2
    tail -20 "$LOGDIR/slurmd-$n.log" >&2; exit 1
  fi
done
echo "slurm up: nodes ${SLURM_NODES[*]} ($HW each), partition $PART OverSubscribe=$OVERSUB LLN, slurmctld at $CLUSTER_LOGIN_ADDR"
sinfo -N
