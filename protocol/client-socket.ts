/**
 * Options every WebSocket client of ours dials with (agent → coordinator, client → service,
 * agent → agent). A zero masking key: RFC 6455 masks client frames so that script in a browser
 * cannot steer the bytes a caching proxy sees; our clients are not browsers, and masking a 10 MB
 * value costs its sender an XOR pass and its receiver another (ws skips both when the key is
 * zero). Compression off: values are mostly numbers and already packed.
 */
export const CLIENT_SOCKET_OPTIONS = {
  perMessageDeflate: false,
  generateMask: (mask: Buffer): void => {
    mask.fill(0);
  },
} as const;
