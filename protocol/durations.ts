/**
 * Node's timers hold 32-bit signed milliseconds: a longer delay (2^31 ms, about 24.8 days) fires
 * after 1 ms instead. Every duration an option or a message carries is checked against this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What every duration check says past the limit. */
export const MAX_TIMER_TEXT = `at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer Node can set)`;

/**
 * Runs `fn` after `ms`, however long (a walltime of months): waits in steps Node's timers can
 * hold. Unref'd, like the timers it replaces. Returns a function that cancels it.
 */
export function longTimeout(fn: () => void, ms: number): () => void {
  const due = Date.now() + Math.max(0, ms);
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = due - Date.now();
    timer = setTimeout(left > MAX_TIMER_MS ? arm : fn, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
