import type { AgentLink } from './link.js';

/** A link's place in the turn: kept while the link is known, so taking a turn allocates nothing. */
interface Turn {
  readonly link: AgentLink;
  prev: Turn | null;
  next: Turn | null;
  queued: boolean;
}

/**
 * The links that can take one more task of a kind, kept up to date as their load changes (a task
 * sent, a result back, a link added, drained or lost) instead of rescanned per dispatch. The order
 * is the round robin: a link that takes a task and still has room goes to the back, unless it is
 * to take more in a row; a link whose tasks came back goes to the front (see {@link freed}).
 *
 * A list through each link's turn, not a `Set`: a Set that loses and regains one entry per task
 * rehashes every few tasks (about 100 bytes a task, and a measurable share of dispatch).
 */
export class OpenLinks {
  private readonly turns = new Map<AgentLink, Turn>();
  private head: Turn | null = null;
  private tail: Turn | null = null;
  private count = 0;

  constructor(private readonly room: (link: AgentLink) => number) {}

  get size(): number {
    return this.count;
  }

  has(link: AgentLink): boolean {
    return this.turns.get(link)?.queued === true;
  }

  /** The link whose turn it is; undefined when none has room. */
  first(): AgentLink | undefined {
    return this.head?.link;
  }

  /** Re-reads the link's room after its load changed. */
  update(link: AgentLink): void {
    if (this.room(link) > 0) {
      const turn = this.turnOf(link);
      if (!turn.queued) this.append(turn);
    } else {
      const turn = this.turns.get(link);
      if (turn?.queued) this.unlink(turn);
    }
  }

  /**
   * Its tasks came back: to the front of the turn (if it has room), so the tasks that replace them
   * go there, as one frame, rather than one each to the links ahead of it, which have more queued.
   */
  freed(link: AgentLink): void {
    if (this.room(link) <= 0) {
      this.update(link);
      return;
    }
    const turn = this.turnOf(link);
    if (turn === this.head) return;
    if (turn.queued) this.unlink(turn);
    this.prepend(turn);
  }

  /**
   * The link took a task: to the back of the turn if it still has room, else out. With `stay`, a
   * link at the front that still has room keeps its turn.
   */
  took(link: AgentLink, stay = false): void {
    const turn = this.turnOf(link);
    const room = this.room(link) > 0;
    if (turn.queued && room && (turn === this.tail || (stay && turn === this.head))) return;
    if (turn.queued) this.unlink(turn);
    if (room) this.append(turn);
  }

  delete(link: AgentLink): void {
    const turn = this.turns.get(link);
    if (!turn) return;
    if (turn.queued) this.unlink(turn);
    this.turns.delete(link);
  }

  private turnOf(link: AgentLink): Turn {
    let turn = this.turns.get(link);
    if (!turn) {
      turn = { link, prev: null, next: null, queued: false };
      this.turns.set(link, turn);
    }
    return turn;
  }

  private append(turn: Turn): void {
    turn.prev = this.tail;
    turn.next = null;
    if (this.tail) this.tail.next = turn;
    else this.head = turn;
    this.tail = turn;
    turn.queued = true;
    this.count++;
  }

  private prepend(turn: Turn): void {
    turn.prev = null;
    turn.next = this.head;
    if (this.head) this.head.prev = turn;
    else this.tail = turn;
    this.head = turn;
    turn.queued = true;
    this.count++;
  }

  private unlink(turn: Turn): void {
    if (turn.prev) turn.prev.next = turn.next;
    else this.head = turn.next;
    if (turn.next) turn.next.prev = turn.prev;
    else this.tail = turn.prev;
    turn.prev = null;
    turn.next = null;
    turn.queued = false;
    this.count--;
  }
}
