#!/usr/bin/env bash
# pbs-up.sh — PBS/Torque-style qsub/qstat/qdel/pbsnodes for tests, in /opt/slurm-torque/usr/bin.
# There is NO real PBS/Torque/OpenPBS server in Debian 12; these are Debian's slurm-wlm-torque
# wrappers (Perl scripts that turn PBS commands into sbatch/squeue/scancel calls) on top of the
# SLURM that slurm-up.sh starts (so PBS jobs share SLURM's queue and its OverSubscribe).
# The wrappers are unpacked into /opt/slurm-torque instead of installed, because the package
# Conflicts: gridengine-client (both ship /usr/bin/qsub, qstat, qdel): this way SGE's qsub stays
# /usr/bin/qsub and the PBS one is PATH=/opt/slurm-torque/usr/bin:$PATH qsub job.sh
# (CLUSTRIX_TEST_PBS_PATH in env.sh). No daemon of its own: slurm-down.sh stops it.
# `pbs-up.sh --needs-install` exits 0 if packages must be installed, 1 otherwise (for up.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
D=${PBS_WRAPPER_DIR:-/opt/slurm-torque}   # override only to test the install path elsewhere

perl_ok() { perl -MSlurm -MSlurmdb -MSwitch -e1 2>/dev/null; }
installed() { [ -x "$D/usr/bin/qsub" ] && perl_ok; }
if [ "${1:-}" = --needs-install ]; then
  # SLURM is a prerequisite: its install counts too
  { installed && ! "$HERE/slurm-up.sh" --needs-install; } && exit 1 || exit 0
fi

"$HERE/slurm-up.sh" >/dev/null

if ! installed; then
  # the wrappers' Perl dependencies are installed normally (no conflict there)
  perl_ok || apt_install libslurm-perl libslurmdb-perl libswitch-perl
  if [ ! -x "$D/usr/bin/qsub" ]; then
    T=$(mktemp -d); chmod 755 "$T"    # apt-get download drops to user _apt: it must be able to write
    (cd "$T" && apt-get download -qq slurm-wlm-torque 2>/dev/null) || {
      # package lists may be missing on a fresh machine and APT_UPDATED unset: update, retry once
      apt-get update -qq; (cd "$T" && apt-get download -qq slurm-wlm-torque); }
    # unpack beside, then rename: $D never exists half-filled. (Tests should call
    # $D/usr/bin/qsub by full path: if $D is missing, a PATH lookup silently finds SGE's qsub.)
    rm -rf "$D.new"; dpkg-deb -x "$T"/slurm-wlm-torque_*.deb "$D.new"; rm -rf "$T"
    rm -rf "$D"; mv "$D.new" "$D"
  fi
fi
chmod 755 "$D" "$D/usr" "$D/usr/bin"
# the wrappers call "${FindBin::Bin}/sbatch" etc., i.e. next to themselves
for b in sbatch salloc srun squeue scancel scontrol sinfo sacct; do ln -sfn "/usr/bin/$b" "$D/usr/bin/$b"; done
PATH=$D/usr/bin:$PATH pbsnodes -a | head -3
echo "pbs wrappers ready: PATH=$D/usr/bin:\$PATH"
