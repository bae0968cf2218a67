#!/usr/bin/env bash
# smoke.sh [section...] — end-to-end checks of what up.sh started, as root AND as the test user
# through ssh (the way the coordinator uses the machine). Sections (default: all that are up):
#   ssh    testuser over ssh has node, sbatch, qsub (SGE) on the non-interactive PATH
#   slurm  sbatch/squeue/scancel/sacct, a job reaching a server on the login address 10.202.0.1
#          (and not the host's 127.0.0.1), a 2-node srun on two hostnames, an array spread over
#          the four nodes, 3 x 1-CPU jobs at once, and an sbatch as testuser whose job runs node
#   sge    qsub (stdin script)/qstat/qacct/qdel, loopback TCP from a job, a testuser job running node
#   pbs    PBS-syntax qsub/qstat/qdel (slurm-wlm-torque wrappers), as root and as testuser
#   netns  ping of 10.201.0.1 from clx-compute; host 127.0.0.1 unreachable, 10.201.0.1 reachable
#   dask   a task on the dask-up.sh scheduler
# Runs as root; uses ports 18765-18769 on 127.0.0.1 / 10.201.0.1 / 10.202.0.1 only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/env.sh"
SSH=(ssh -p "$CLUSTRIX_TEST_SSH_PORT" -i "$CLUSTRIX_TEST_SSH_KEY" -o UserKnownHostsFile="$CLUSTRIX_TEST_SSH_KNOWN_HOSTS"
     -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5
     "$CLUSTRIX_TEST_SSH_USER@$CLUSTRIX_TEST_SSH_HOST")
W=$(mktemp -d /tmp/clustrix-smoke.XXXX); chmod 755 "$W"
BG=()     # pids of the helper servers we start, killed on exit (only ours, by pid)
cleanup() { local p; for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
ok() { echo "  ok: $*"; }
die() { echo "  FAILED: $*" >&2; exit 1; }
serve() { # ADDR PORT TEXT — tiny HTTP server on ADDR:PORT serving /index.txt = TEXT
  mkdir -p "$W/www-$2"; echo "$3" > "$W/www-$2/index.txt"
  (cd "$W/www-$2" && exec /usr/bin/python3 -m http.server "$2" --bind "$1" >/dev/null 2>&1) & BG+=($!)
  wait_until 50 curl -fs "http://$1:$2/index.txt" || die "helper server $1:$2 did not start"
}
slurm_gone() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
sge_gone() { ! qstat -j "$1" >/dev/null 2>&1; }

sec_ssh() {
  echo "== ssh (testuser, non-interactive)"
  out=$("${SSH[@]}" 'node -v; sbatch --version; command -v qsub')
  echo "$out" | sed 's/^/     /'
  echo "$out" | grep -q '^v[0-9]' || die "no node for testuser"
  echo "$out" | grep -q '^slurm' || die "no sbatch for testuser"
  echo "$out" | grep -qx /usr/bin/qsub || die "qsub for testuser is not SGE's /usr/bin/qsub"
  ok "testuser@127.0.0.1:2222 has node, sbatch, qsub"
}

sec_slurm() {
  echo "== slurm"
  J=$(sbatch --parsable -o "$W/s-%j.out" --wrap 'hostname; echo SLURM_JOB_ID=$SLURM_JOB_ID')
  wait_until 300 slurm_gone "$J" || die "job $J did not finish"
  grep -q "SLURM_JOB_ID=$J" "$W/s-$J.out" || die "job $J output: $(cat "$W/s-$J.out")"
  wait_until 30 sh -c "sacct -c -j $J -o State -n | grep -q COMPLETED" || die "sacct -c has no COMPLETED for $J"
  ok "sbatch/squeue/sacct -c (job $J)"

  # the nodes live in their own network namespaces: the login node is 10.202.0.1 there
  serve "$CLUSTRIX_TEST_LOGIN_ADDR" 18765 hello-from-login
  serve 127.0.0.1 18769 host-loopback
  J=$(sbatch --parsable -o "$W/s-%j.out" --wrap "curl -fsS http://$CLUSTRIX_TEST_LOGIN_ADDR:18765/index.txt; curl -fsS -m 2 http://127.0.0.1:18769/index.txt || echo loopback-is-the-node-s-own")
  wait_until 300 slurm_gone "$J" || die "job $J did not finish"
  grep -q hello-from-login "$W/s-$J.out" || die "job could not reach $CLUSTRIX_TEST_LOGIN_ADDR: $(cat "$W/s-$J.out")"
  grep -q loopback-is-the-node-s-own "$W/s-$J.out" || die "a job reached the host's 127.0.0.1: not in a node namespace"
  ok "a job reaches the login node at $CLUSTRIX_TEST_LOGIN_ADDR, and 127.0.0.1 there is the node's own"

  J=$(sbatch --parsable -N 2 --ntasks-per-node=1 -o "$W/s-%j.out" --wrap 'srun hostname')
  wait_until 300 slurm_gone "$J" || die "2-node job $J did not finish"
  [ "$(sort -u "$W/s-$J.out" | grep -c '^cx-node[1-4]$')" = 2 ] || die "srun in a 2-node job: $(cat "$W/s-$J.out")"
  ok "a 2-node job's srun ran on $(sort -u "$W/s-$J.out" | tr '\n' ' ')"

  J=$(sbatch --parsable --array=0-7 -o "$W/a-%A_%a.out" --wrap 'hostname')
  wait_until 300 slurm_gone "$J" || die "array $J did not finish"
  hosts=$(cat "$W/a-${J}"_*.out | sort -u | tr '\n' ' ')
  [ "$(cat "$W/a-${J}"_*.out | sort -u | wc -l)" -ge 2 ] || die "array $J ran on one node only: $hosts"
  ok "an array of 8 ran on $hosts"

  # OverSubscribe=FORCE:4: three 1-CPU jobs must RUN together (here even on one 2-CPU node: -w)
  JS=()
  for i in 1 2 3; do JS+=("$(sbatch --parsable -c 1 -w cx-node1 -o /dev/null --wrap 'sleep 20')"); done
  three_running() { [ "$(squeue -h -t R -j "$(IFS=,; echo "${JS[*]}")" | wc -l)" = 3 ]; }
  wait_until 100 three_running || { squeue; scancel "${JS[@]}"; die "3 single-CPU jobs did not run at once"; }
  squeue -j "$(IFS=,; echo "${JS[*]}")" -o '     %i %T %C %N'
  scancel "${JS[@]}"
  for j in "${JS[@]}"; do wait_until 100 slurm_gone "$j" || die "scancel $j"; done
  ok "3 x 1-CPU jobs ran concurrently on one node of $(nproc) CPUs, scancel worked"

  # as testuser over ssh: sbatch, and the job (which inherits the submit PATH) runs node
  out=$("${SSH[@]}" 'bash -s' <<'R'
set -e
cd ~
J=$(sbatch --parsable -o ~/smoke-%j.out --wrap 'node -e "console.log(\"node-in-slurm-job\", process.version)"')
for i in $(seq 1 300); do [ -z "$(squeue -h -j $J)" ] && break; sleep 0.1; done
cat ~/smoke-$J.out; rm -f ~/smoke-$J.out
R
)
  echo "$out" | grep -q node-in-slurm-job || die "testuser's SLURM job could not run node: $out"
  ok "testuser sbatch over ssh; job ran node ($out)"
}

sec_sge() {
  echo "== sge"
  # a job script on stdin (safer than -b y, which re-joins argv into one shell line, losing quoting)
  J=$(printf 'hostname\necho err >&2\nexit 3\n' | qsub -terse -cwd -S /bin/bash -N smoke -o "$W/g.out" -e "$W/g.err")
  wait_until 300 sge_gone "$J" || die "sge job $J did not finish"
  # accounting is flushed every 1 s (sge-up.sh)
  wait_until 50 qacct -j "$J" || die "qacct has no job $J"
  qacct -j "$J" | grep -qE '^exit_status +3' || die "exit status not recorded: $(qacct -j "$J")"
  grep -q err "$W/g.err" || die "stderr not captured"
  ok "qsub/qstat/qacct (job $J, exit_status 3)"

  serve 127.0.0.1 18766 hello-from-loopback
  J=$(echo 'curl -fsS http://127.0.0.1:18766/index.txt' | qsub -terse -S /bin/bash -o "$W/gt.out" -j y)
  wait_until 300 sge_gone "$J" || die "sge job $J did not finish"
  grep -q hello-from-loopback "$W/gt.out" || die "SGE job could not reach 127.0.0.1"
  ok "an SGE job reaches a server on 127.0.0.1"

  J=$(echo 'sleep 600' | qsub -terse -o /dev/null -j y)
  sge_running() { qstat -s r | awk '{print $1}' | grep -qx "$J"; }
  wait_until 100 sge_running || die "sge job $J did not start"
  qdel "$J" >/dev/null; wait_until 100 sge_gone "$J" || die "qdel $J"
  ok "qdel"

  # as testuser over ssh; SGE jobs do NOT inherit the submit PATH (no -V), so this also checks
  # that node is on the default job PATH
  out=$("${SSH[@]}" 'bash -s' <<'R'
set -e
cd ~
J=$(echo 'node -e "console.log(\"node-in-sge-job\", process.version)"' | qsub -terse -S /bin/bash -o ~/sge-smoke.out -j y)
for i in $(seq 1 300); do qstat -j $J >/dev/null 2>&1 || break; sleep 0.1; done
cat ~/sge-smoke.out; rm -f ~/sge-smoke.out
R
)
  echo "$out" | grep -q node-in-sge-job || die "testuser's SGE job could not run node: $out"
  ok "testuser qsub (SGE) over ssh; job ran node ($out)"
}

sec_pbs() {
  echo "== pbs (wrappers on SLURM)"
  # the wrapper's qsub needs a script FILE whose first line is #! (no script on stdin). Called by
  # full path: a PATH lookup would silently reach SGE's /usr/bin/qsub if the wrappers were missing.
  cat > "$W/p.sh" <<'P'
#!/bin/bash
#PBS -N pbssmoke
#PBS -l nodes=1:ppn=1,walltime=00:05:00
echo "SLURM_JOB_ID=$SLURM_JOB_ID PBS_JOBID=${PBS_JOBID:-unset}"
P
  pstate() { "$CLUSTRIX_TEST_PBS_PATH/qstat" "$1" 2>/dev/null | awk 'NR>2{print $5}'; }
  pbs_done() { [ "$(pstate "$1")" = C ]; }
  J=$(cd "$W" && "$CLUSTRIX_TEST_PBS_PATH/qsub" -o "$W/p.out" -e "$W/p.err" p.sh)
  wait_until 300 pbs_done "$J" || die "PBS job $J not C: $(pstate "$J")"
  grep -q "SLURM_JOB_ID=$J" "$W/p.out" || die "PBS job output: $(cat "$W/p.out")"
  ok "PBS qsub/qstat (job $J): $(cat "$W/p.out")"
  printf '#!/bin/bash\nsleep 600\n' > "$W/long.sh"
  J=$(cd "$W" && "$CLUSTRIX_TEST_PBS_PATH/qsub" -o /dev/null -e /dev/null long.sh)
  pbs_r() { [ "$(pstate "$1")" = R ]; }
  wait_until 100 pbs_r "$J" || die "PBS job $J not running"
  "$CLUSTRIX_TEST_PBS_PATH/qdel" "$J"
  wait_until 100 pbs_done "$J" || die "PBS qdel $J"
  ok "PBS qdel"
  out=$("${SSH[@]}" "P=$CLUSTRIX_TEST_PBS_PATH "'bash -s' <<'R'
set -e
cd ~
qsub() { "$P/qsub" "$@"; }; qstat() { "$P/qstat" "$@"; }   # full paths: never fall back to SGE's
printf '#!/bin/bash\nnode -e "console.log(\\"node-in-pbs-job\\")"\n' > pbs-smoke.sh
J=$(qsub -o ~/pbs-smoke.out -e ~/pbs-smoke.err pbs-smoke.sh)
for i in $(seq 1 300); do [ "$(qstat $J 2>/dev/null | awk 'NR>2{print $5}')" = C ] && break; sleep 0.1; done
cat ~/pbs-smoke.out ~/pbs-smoke.err; rm -f ~/pbs-smoke.out ~/pbs-smoke.err pbs-smoke.sh
R
)
  echo "$out" | grep -q node-in-pbs-job || die "testuser's PBS job could not run node: $out"
  ok "testuser PBS qsub over ssh; job ran node"
}

sec_netns() {
  echo "== netns clx-compute"
  ip netns exec "$CLUSTRIX_TEST_NETNS" ping -c1 -W1 "$CLUSTRIX_TEST_NETNS_LOGIN_ADDR" >/dev/null || die "ping 10.201.0.1"
  ok "ping $CLUSTRIX_TEST_NETNS_LOGIN_ADDR from inside"
  serve 127.0.0.1 18767 host-loopback
  serve "$CLUSTRIX_TEST_NETNS_LOGIN_ADDR" 18768 login-node
  if ip netns exec "$CLUSTRIX_TEST_NETNS" curl -fsS -m 2 http://127.0.0.1:18767/index.txt >/dev/null 2>&1; then
    die "host's 127.0.0.1 is reachable from inside the namespace"
  fi
  ok "host's 127.0.0.1:18767 NOT reachable from inside (127.0.0.1 there is the namespace's own)"
  got=$(ip netns exec "$CLUSTRIX_TEST_NETNS" curl -fsS -m 2 "http://$CLUSTRIX_TEST_NETNS_LOGIN_ADDR:18768/index.txt") \
    || die "server on $CLUSTRIX_TEST_NETNS_LOGIN_ADDR not reachable from inside"
  [ "$got" = login-node ] || die "unexpected answer '$got'"
  ok "server bound on $CLUSTRIX_TEST_NETNS_LOGIN_ADDR:18768 reachable from inside"
  [ -z "$(ip -n "$CLUSTRIX_TEST_NETNS" route show default)" ] || die "namespace has a default route"
  ok "no default route inside"
}

sec_dask() {
  echo "== dask"
  /usr/bin/python3 -c '
from distributed import Client
c = Client("tcp://127.0.0.1:8786", timeout=10)
assert c.submit(sum, [1, 2, 3]).result() == 6
print("  ok: dask task on tcp://127.0.0.1:8786 with", len(c.scheduler_info()["workers"]), "workers")
c.close()'
}

if [ $# -eq 0 ]; then
  set -- ssh slurm sge pbs
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$CLUSTRIX_TEST_NETNS" && set -- "$@" netns
  alive "$INFRA_DIR/dask/scheduler.pid" dask-scheduler && set -- "$@" dask
fi
for s in "$@"; do "sec_$s"; done
echo "SMOKE OK: $*"
