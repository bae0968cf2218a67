/** Levels of the coordinator's own messages; `CLUSTRIX_LOG=debug` shows everything. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  enabled(level: LogLevel): boolean;
}

export function levelFromEnv(value: string | undefined): LogLevel {
  return value === 'error' || value === 'warn' || value === 'info' || value === 'debug' ? value : 'warn';
}

/** Writes `clustrix <level>: message` lines to stderr at or above `level`. */
export function createLogger(level: LogLevel = levelFromEnv(process.env.CLUSTRIX_LOG), write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const at = ORDER[level];
  const emit = (l: LogLevel) => (message: string) => {
    if (ORDER[l] <= at) write(`clustrix ${l}: ${message}\n`);
  };
  return { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug'), enabled: (l) => ORDER[l] <= at };
}
