#!/usr/bin/env bash
# sge-up.sh — idempotently install and start a single-host Son of Grid Engine 8.1.9 (Debian 12
# packages gridengine-master/-exec/-client) without systemd: sge_qmaster (port 6444) + sge_execd
# (port 6445), one queue all.q, a parallel environment "smp", root allowed to run jobs, 1 s
# scheduling. Clients: /usr/bin/qsub, qstat, qdel, qacct, qconf (Debian's wrapper sets SGE_ROOT
# itself, so any user, e.g. testuser over ssh, can run them without environment setup).
# Env overrides: SGE_SLOTS (4 x nproc, see below).
# `sge-up.sh --needs-install` exits 0 if packages must be installed, 1 otherwise (for up.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
H=$(hostname)
# all.q slots: 4 per CPU, like SLURM's OverSubscribe=FORCE:4 in slurm-up.sh, so that tests can run
# several mostly-idle single-slot agent jobs at once on a 2-core machine instead of queueing.
SLOTS=${SGE_SLOTS:-$(( 4 * $(nproc) ))}
CONF=$INFRA_DIR/sge-conf
COMMON=$SGE_ROOT/$SGE_CELL/common
SPOOL=/var/spool/gridengine

installed() { [ -x /usr/lib/gridengine/sge_qmaster ] && [ -x /usr/lib/gridengine/sge_execd ] && [ -x /usr/lib/gridengine/qsub ]; }
if [ "${1:-}" = --needs-install ]; then installed && exit 1 || exit 0; fi
if ! installed; then
  # answer the debconf questions first, else the master host is left empty and no cell is created
  debconf-set-selections <<DEB
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string default
gridengine-master shared/gridenginemaster string $H
DEB
  # pulls in exim4 + bsd-mailx (mailx dependency); without systemd nothing starts exim
  apt_install gridengine-master gridengine-exec gridengine-client
fi
# Call the real binaries in /usr/lib/gridengine from here on: each /usr/bin/q* wrapper call runs
# /usr/share/gridengine/util/arch (0.1-0.5 s per call on a loaded machine) just to set SGE_ARCH,
# and this script makes ~20 calls. (Users and tests keep using /usr/bin/qsub etc.)
SGE_ARCH=$(/usr/share/gridengine/util/arch)
export SGE_ARCH PATH=/usr/lib/gridengine:$PATH
# the postinst created the cell with berkeleydb spooling; if it did not (debconf said no), do it now
if [ ! -f "$COMMON/bootstrap" ] || [ -z "$(ls -A "$SPOOL/spooldb" 2>/dev/null)" ]; then
  mkdir -p "$SPOOL/qmaster/job_scripts" "$SPOOL/spooldb" "$SPOOL/execd" "$COMMON"
  chown -R sgeadmin:sgeadmin "$SPOOL" "$SGE_ROOT/$SGE_CELL"
  su -s /bin/sh -c "/usr/share/gridengine/scripts/init_cluster $SGE_ROOT $SGE_CELL $SPOOL/spooldb sgeadmin" sgeadmin
fi

echo "$H" > "$COMMON/act_qmaster"
# PITFALL: 127.0.0.1 reverse-resolves to "localhost" while the host calls itself "$H"; without
# an alias every client gets "access denied (client IP resolved to host name "localhost". This is
# not identical to clients host name ...)".
ALIASES="localhost"
REV=$(getent hosts "$(getent hosts "$H" | awk '{print $1; exit}')" | awk '{print $2; exit}' || true)
if [ -n "$REV" ] && [ "$REV" != "$H" ] && [ "$REV" != localhost ]; then ALIASES="$ALIASES $REV"; fi
echo "$H $ALIASES" > "$COMMON/host_aliases"
chown sgeadmin:sgeadmin "$COMMON/act_qmaster" "$COMMON/host_aliases"
mkdir -p /run/gridengine && chown sgeadmin:sgeadmin /run/gridengine

# ---------- qmaster ----------
QPID=$SPOOL/qmaster/qmaster.pid
# daemonizes and drops to sgeadmin; log: /var/spool/gridengine/qmaster/messages
alive "$QPID" sge_qmaster || /usr/sbin/sge_qmaster
wait_until 100 qstat || { echo "qmaster not answering" >&2; tail -20 "$SPOOL/qmaster/messages" >&2; exit 1; }

# ---------- cluster configuration (each step only if not already so: idempotent) ----------
mkdir -p "$CONF"; cd "$CONF"
# global config: let root (uid 0) run jobs (default min_uid/min_gid 1000 makes execd reject them),
# and flush the accounting file every second so qacct sees a job right after it ends (default 15 s)
qconf -sconf global > global
if ! grep -qE '^min_uid +0$' global || ! grep -q 'flush_time=00:00:01' global; then
  sed -i -E 's/^(min_uid +).*/\10/; s/^(min_gid +).*/\10/' global
  perl -0pi -e 's/^reporting_params\s+.*?(?<!\\)\n/reporting_params             accounting=true reporting=false flush_time=00:00:01 joblog=false sharelog=00:00:00\n/ms' global
  qconf -Mconf global >/dev/null
fi
# scheduler: run every second instead of every 15 s, and right after each submit/finish
qconf -ssconf > sched
if ! grep -qE '^schedule_interval +0:0:1$' sched; then
  sed -i -E 's/^(schedule_interval +).*/\10:0:1/; s/^(flush_submit_sec +).*/\11/; s/^(flush_finish_sec +).*/\11/' sched
  qconf -Msconf sched >/dev/null
fi
# this host is admin host and submit host (submit host: needed for qsub from any user on it)
qconf -sh 2>/dev/null | grep -qx "$H" || qconf -ah "$H" >/dev/null
qconf -ss 2>/dev/null | grep -qx "$H" || qconf -as "$H" >/dev/null
if ! qconf -sel 2>/dev/null | grep -qx "$H"; then
  cat > exechost <<EH
hostname              $H
load_scaling          NONE
complex_values        NONE
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
EH
  qconf -Ae exechost >/dev/null
fi
if ! qconf -spl 2>/dev/null | grep -qx smp; then
  cat > pe_smp <<'PE'
pe_name            smp
slots              999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    $pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
PE
  qconf -Ap pe_smp >/dev/null
fi
if ! qconf -sql 2>/dev/null | grep -qx all.q; then
  # start from the built-in template; its pe_list "make smp mpi" names PEs that do not exist.
  # load_thresholds NONE: on a busy 2-core machine np_load_avg>1.75 would mark the queue (a)larm
  qconf -sq > q_all
  sed -i -E "s/^(qname +).*/\1all.q/; s/^(hostlist +).*/\1$H/; s/^(slots +).*/\1$SLOTS/; s/^(pe_list +).*/\1smp/; s#^(shell +).*#\1/bin/bash#; s/^(load_thresholds +).*/\1NONE/" q_all
  qconf -Aq q_all >/dev/null
else
  qconf -sq all.q | grep -E '^hostlist' | grep -qw "$H" || qconf -aattr queue hostlist "$H" all.q >/dev/null
  # a queue made earlier (e.g. with 1 slot per CPU): bring its slot count to $SLOTS
  qconf -sq all.q | grep -qE "^slots +$SLOTS\$" || qconf -mattr queue slots "$SLOTS" all.q >/dev/null
  qconf -sq all.q | grep -qE '^load_thresholds +NONE$' || qconf -mattr queue load_thresholds NONE all.q >/dev/null
fi

# ---------- execd ----------
# spool/log in /var/spool/gridengine/execd/<name>/ (<name> is "localhost" here, see host_aliases)
EPID=$(ls "$SPOOL"/execd/*/execd.pid 2>/dev/null | head -1 || true)
if [ -z "$EPID" ] || ! alive "$EPID" sge_execd; then
  /usr/sbin/sge_execd        # daemonizes
fi
# wait until the execd has reported load (queue no longer in state "au")
q_state() { qstat -f -q "all.q@$H" 2>/dev/null | awk -v q="all.q@$H" '$1==q {print ($6==""?"ok":$6)}'; }
q_ok() { [ "$(q_state)" = ok ]; }
wait_until 300 q_ok || true
qstat -f
q_ok || { echo "queue all.q@$H state: '$(q_state)'" >&2; tail -20 "$SPOOL/qmaster/messages" >&2; exit 1; }
echo "sge up: all.q@$H with $SLOTS slots"
