#!/usr/bin/env bash
# sshd-down.sh — stop the sshd started by sshd-up.sh, by its pid file only (never by name: other
# sshd processes may belong to someone else). Keys, known_hosts and the test user are kept, so a
# later sshd-up.sh gives clients the same host key. The cluster bridge goes once no node uses it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SSH_DIR=${SSH_DIR:-$INFRA_DIR/sshd}
# the listening sshd; sessions already open keep their own per-connection sshd until they end
stop_pidfile sshd "$SSH_DIR/sshd.pid" 50
bridge_down_if_unused
