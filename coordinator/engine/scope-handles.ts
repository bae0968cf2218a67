import type { ObjectDirectory } from './object-directory.js';
import { ProtocolError } from '../errors/errors.js';
import { CloseCode } from '../../protocol/version.js';

/**
 * The object handles one scope holds: one pin each in the directory, however many refs its
 * program has; every one is given back when the scope closes, and none is taken after.
 */
export class ScopeHandles {
  private readonly held = new Set<string>();
  private closed = false;

  constructor(private readonly directory: ObjectDirectory) {}

  /** A new object's id must be free: ids are the caller's, and one caller must not take another's. */
  claim(objectId: string): void {
    if (this.directory.has(objectId)) throw new ProtocolError(`object id ${objectId} is in use`, CloseCode.protocolError);
  }

  /** The handle a new object's directory entry was made with (its count starts at one). */
  take(objectId: string): void {
    this.held.add(objectId);
  }

  /**
   * Refs inside a value this scope's program receives become its handles: they were pinned for it
   * when the value was delivered, so one the program already holds (or a closed scope) gives its pin back.
   */
  adopt(refs: readonly string[] | undefined): void {
    if (!refs) return;
    for (const id of refs) {
      if (!this.directory.has(id)) continue;
      if (this.closed || this.held.has(id)) this.directory.unpin(id);
      else this.held.add(id);
    }
  }

  /** Refs of a value that never reaches the program: their pins go back. */
  release(refs: readonly string[] | undefined): void {
    for (const id of refs ?? []) this.directory.unpin(id);
  }

  /** The refs inside a value the program read become its own too (it may hold them after the outer one goes). */
  pinInner(objectId: string): void {
    for (const inner of this.directory.containsOf(objectId)) {
      if (this.closed || this.held.has(inner) || !this.directory.has(inner)) continue;
      this.held.add(inner);
      this.directory.pin(inner);
    }
  }

  free(objectIds: readonly string[]): void {
    for (const id of objectIds) if (this.held.delete(id)) this.directory.unpin(id);
  }

  close(): void {
    this.closed = true;
    for (const id of this.held) this.directory.unpin(id);
    this.held.clear();
  }
}
