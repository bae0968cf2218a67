#!/usr/bin/env bash
# sshd-up.sh — idempotently install and start an OpenSSH server on 127.0.0.1:$SSH_PORT and on
# the login node's cluster address $CLUSTER_LOGIN_ADDR:$SSH_PORT (the bridge the SLURM nodes hang
# off, see lib.sh: a coordinator that reaches the login node there advertises that address to its
# agents, which the nodes can reach) without systemd, with its own host key, a client key pair and a key-only test user; then make sure the
# test user finds `node` on the PATH of NON-interactive ssh commands (what the coordinator uses to
# launch agents). The cluster commands (sbatch, SGE's qsub) are in /usr/bin once slurm-up.sh /
# sge-up.sh have run, so they are on that PATH too; smoke.sh checks them through ssh.
#
# Env overrides: SSH_PORT (2222), SSH_USER (testuser), SSH_DIR (/tmp/clustrix-infra/sshd),
#   CLUSTRIX_NODE (the node binary to expose to the test user; default: root's `command -v node`).
# Files (other code depends on these paths): $SSH_DIR/id_ed25519 (client key), $SSH_DIR/known_hosts,
#   $SSH_DIR/ssh_host_ed25519_key, $SSH_DIR/sshd_config, $SSH_DIR/sshd.pid, $SSH_DIR/sshd.log.
# `sshd-up.sh --needs-install` exits 0 if packages must be installed (used by up.sh to decide on
# a single apt-get update), 1 otherwise.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SSH_PORT=${SSH_PORT:-2222}
SSH_USER=${SSH_USER:-testuser}
SSH_DIR=${SSH_DIR:-$INFRA_DIR/sshd}

installed() { [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null && command -v ip >/dev/null; }
if [ "${1:-}" = --needs-install ]; then installed && exit 1 || exit 0; fi
installed || apt_install openssh-server openssh-client iproute2
bridge_up    # sshd cannot listen on an address this host does not have yet

mkdir -p "$SSH_DIR"
chmod 755 "$SSH_DIR"
# privilege-separation dir; sshd refuses to start without it ("Missing privilege separation directory")
mkdir -p /run/sshd && chmod 755 /run/sshd

# our own host key (independent of /etc/ssh host keys, which a bare container may not have)
[ -f "$SSH_DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/ssh_host_ed25519_key"
# client key pair the tests use (readable by root only: ssh refuses keys with loose permissions)
[ -f "$SSH_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$SSH_USER@clustrix-test" -f "$SSH_DIR/id_ed25519"
chmod 600 "$SSH_DIR/id_ed25519"

# test user. PITFALL: `useradd` leaves the account locked ("!" in /etc/shadow) and sshd with
# UsePAM no refuses even key auth for a locked account; '*' = no valid password, but not locked.
id "$SSH_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$SSH_USER"
usermod -p '*' "$SSH_USER"
HOME_DIR=$(getent passwd "$SSH_USER" | cut -d: -f6)
install -d -m 755 -o "$SSH_USER" -g "$SSH_USER" "$HOME_DIR"    # sshd StrictModes: home not group/world-writable
install -d -m 700 -o "$SSH_USER" -g "$SSH_USER" "$HOME_DIR/.ssh"
install -m 600 -o "$SSH_USER" -g "$SSH_USER" "$SSH_DIR/id_ed25519.pub" "$HOME_DIR/.ssh/authorized_keys"

# MaxStartups/MaxSessions: the default 10:30:100 randomly drops connections once 10 are
# unauthenticated at once, which parallel tests (many agents launched at once) do hit.
cat > "$SSH_DIR/sshd_config.new" <<EOF
# written by test/infra/sshd-up.sh
Port $SSH_PORT
ListenAddress 127.0.0.1
ListenAddress $CLUSTER_LOGIN_ADDR
HostKey $SSH_DIR/ssh_host_ed25519_key
PidFile $SSH_DIR/sshd.pid
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
AllowUsers $SSH_USER
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
GatewayPorts no
X11Forwarding no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 100
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel INFO
EOF
CHANGED=0
if ! cmp -s "$SSH_DIR/sshd_config.new" "$SSH_DIR/sshd_config"; then
  mv "$SSH_DIR/sshd_config.new" "$SSH_DIR/sshd_config"; CHANGED=1
else
  rm -f "$SSH_DIR/sshd_config.new"
fi
/usr/sbin/sshd -t -f "$SSH_DIR/sshd_config"

# known_hosts for the client side, so tests need no StrictHostKeyChecking=no
KEY=$(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")
printf '[127.0.0.1]:%s %s\n[%s]:%s %s\n' "$SSH_PORT" "$KEY" "$CLUSTER_LOGIN_ADDR" "$SSH_PORT" "$KEY" > "$SSH_DIR/known_hosts.new"
mv "$SSH_DIR/known_hosts.new" "$SSH_DIR/known_hosts"
chmod 644 "$SSH_DIR/known_hosts"

if alive "$SSH_DIR/sshd.pid" sshd; then
  if [ "$CHANGED" = 1 ]; then
    # SIGHUP = re-exec with the new config, same pid. Read the pid first: while re-executing,
    # sshd deletes and rewrites its pid file.
    SPID=$(cat "$SSH_DIR/sshd.pid")
    kill -HUP "$SPID"
    echo "sshd config changed: reloaded (pid $SPID)"
  else
    echo "sshd already running (pid $(cat "$SSH_DIR/sshd.pid"))"
  fi
else
  # daemonizes by itself; -E sends its log to a file (there is no syslog daemon here)
  /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log"
fi

SSH=(ssh -p "$SSH_PORT" -i "$SSH_DIR/id_ed25519" -o UserKnownHostsFile="$SSH_DIR/known_hosts"
     -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 "$SSH_USER@127.0.0.1")
if ! wait_until 50 "${SSH[@]}" true; then
  echo "sshd did not come up; log:" >&2; cat "$SSH_DIR/sshd.log" >&2; exit 1
fi
wait_until 20 alive "$SSH_DIR/sshd.pid" sshd || true
# the same client, to the login node's cluster address (the last word of SSH is the destination)
"${SSH[@]:0:${#SSH[@]}-1}" "$SSH_USER@$CLUSTER_LOGIN_ADDR" true || { echo "sshd does not answer on $CLUSTER_LOGIN_ADDR:$SSH_PORT" >&2; exit 1; }
echo "sshd up on 127.0.0.1:$SSH_PORT and $CLUSTER_LOGIN_ADDR:$SSH_PORT (pid $(cat "$SSH_DIR/sshd.pid" 2>/dev/null || echo '?'))"

# ---------- node for the test user ----------
# A non-interactive `ssh host cmd` gets sshd's compiled-in PATH (Debian:
# /usr/local/bin:/usr/bin:/bin:/usr/games) and reads no profile (Debian's ~/.bashrc returns early
# when not interactive). So node must be in one of those dirs AND executable by the test user.
# PITFALL: root's node may live under /root/.nvm (/root is 0700) or another private path; then the
# test user cannot run it even through a symlink. We link when every parent dir lets the user in,
# otherwise we copy the (self-contained) binary to /usr/local/bin/node.
NODE_SRC=${CLUSTRIX_NODE:-$(command -v node || true)}
if [ -z "$NODE_SRC" ]; then
  echo "no node on root's PATH (set CLUSTRIX_NODE=/path/to/node)" >&2; exit 1
fi
NODE_REAL=$(readlink -f "$NODE_SRC")
WANT=$("$NODE_REAL" -v)
HAVE=$("${SSH[@]}" 'node -v' 2>/dev/null || true)
if [ "$HAVE" != "$WANT" ]; then
  echo "test user's node is '${HAVE:-missing}', root's is $WANT ($NODE_REAL): installing /usr/local/bin/node"
  mkdir -p /usr/local/bin && chmod 755 /usr/local/bin
  if runuser -u "$SSH_USER" -- "$NODE_REAL" -v >/dev/null 2>&1; then
    ln -sfn "$NODE_REAL" /usr/local/bin/node          # readable along its whole path: a link will do
  else
    install -m 755 -o root -g root "$NODE_REAL" /usr/local/bin/node.clustrix-tmp
    mv -f /usr/local/bin/node.clustrix-tmp /usr/local/bin/node   # atomic: never a half-copied node
  fi
  HAVE=$("${SSH[@]}" 'node -v' 2>/dev/null || true)
  if [ "$HAVE" != "$WANT" ]; then
    echo "test user still gets node '${HAVE:-missing}' over ssh (PATH: $("${SSH[@]}" 'echo $PATH'))" >&2
    exit 1
  fi
fi
echo "node for $SSH_USER over ssh: $HAVE ($("${SSH[@]}" 'command -v node'))"
echo "  ssh -p $SSH_PORT -i $SSH_DIR/id_ed25519 -o UserKnownHostsFile=$SSH_DIR/known_hosts $SSH_USER@127.0.0.1"
