/**
 * How agents reach the coordinator: `direct` (they dial an address of this machine, see
 * detectAdvertiseHost) or `tunnel` (they dial a relay on the login node that forwards over the
 * coordinator's SSH connection, see openTunnel).
 */
export { openTunnel, detectRelayHost, type Tunnel, type TunnelOptions, type CommandRunner } from './tunnel.js';
export { TunnelError } from './tunnel-error.js';
export { detectAdvertiseHost } from './advertise.js';
