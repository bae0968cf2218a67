# env.sh — source me (`. test/infra/env.sh`) to point the cluster/SSH tests at the services that
# test/infra/up.sh starts. Only exports; starts nothing, so it is safe to source anywhere. Tests
# that need these skip themselves when CLUSTRIX_TEST_CLUSTER is unset.
# (No `set -euo pipefail` here on purpose: a sourced file would change the caller's shell options.)
export CLUSTRIX_TEST_CLUSTER=1
# sshd-up.sh: key-only user on 127.0.0.1:2222, with its own known_hosts (no StrictHostKeyChecking=no)
export CLUSTRIX_TEST_SSH_HOST=127.0.0.1
export CLUSTRIX_TEST_SSH_PORT=2222
export CLUSTRIX_TEST_SSH_USER=testuser
export CLUSTRIX_TEST_SSH_KEY=/tmp/clustrix-infra/sshd/id_ed25519
export CLUSTRIX_TEST_SSH_KNOWN_HOSTS=/tmp/clustrix-infra/sshd/known_hosts
# sshd-up.sh / slurm-up.sh: the login node's address on the cluster bridge. SLURM jobs run on
# cx-node1..4, each in its own network namespace, where 127.0.0.1 is the node's own loopback: a
# coordinator must be reachable here (ssh to this address and `connect: 'direct'` advertises it).
export CLUSTRIX_TEST_LOGIN_ADDR=10.202.0.1
# pbs-up.sh: PBS-syntax qsub/qstat/qdel (on SLURM); put this dir first on PATH for PBS tests.
# SGE's qsub is plain /usr/bin/qsub, SLURM's sbatch /usr/bin/sbatch.
export CLUSTRIX_TEST_PBS_PATH=/opt/slurm-torque/usr/bin
# netns-up.sh (only if it was run): a "compute node" namespace that reaches only 10.201.0.1
export CLUSTRIX_TEST_NETNS=clx-compute
export CLUSTRIX_TEST_NETNS_LOGIN_ADDR=10.201.0.1
