/** What a FramedSocket counts of its frames. */
interface Counted {
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * Bytes of frames over a changing set of sockets (the peer connections), closed ones included:
 * what `cluster.objectStats()` reports as an agent's traffic with its peers.
 */
export class SocketBytes {
  private readonly live = new Set<Counted>();
  private readonly gone = { in: 0, out: 0 };

  add(socket: Counted): void {
    this.live.add(socket);
  }

  /** The socket closed: its counts stay in the total. */
  remove(socket: Counted): void {
    if (!this.live.delete(socket)) return;
    this.gone.in += socket.bytesIn;
    this.gone.out += socket.bytesOut;
  }

  total(): { in: number; out: number } {
    const sum = { ...this.gone };
    for (const s of this.live) {
      sum.in += s.bytesIn;
      sum.out += s.bytesOut;
    }
    return sum;
  }
}
