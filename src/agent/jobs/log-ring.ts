/**
 * The agent's recent log lines, kept in memory for the `logs` operation: a bounded ring of JSON
 * lines (pino's format), filled by a logger that also forwards to the real one.
 */
import type { AgentLogger } from '../types.ts';

export interface LogRing {
  /** Oldest first. */
  lines(): string[];
  push(line: string): void;
}

/** Lines kept by default. */
export const LOG_RING_DEFAULT_LINES = 2000;

export function createLogRing(capacity = LOG_RING_DEFAULT_LINES): LogRing {
  const ring: string[] = [];
  let next = 0;
  return {
    push(line) {
      if (ring.length < capacity) ring.push(line);
      else ring[next] = line;
      next = (next + 1) % capacity;
    },
    lines: () => (ring.length < capacity ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)]),
  };
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A logger that records info and above into `ring` and forwards everything to `logger`. */
export function recordingLogger(logger: AgentLogger, ring: LogRing, now: () => number): AgentLogger {
  const method =
    (level: keyof typeof LEVELS) =>
    (obj: Record<string, unknown>, msg: string): void => {
      if (level !== 'debug') ring.push(safeJson({ level: LEVELS[level], time: now(), ...obj, msg }));
      logger[level](obj, msg);
    };
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}

function safeJson(value: Record<string, unknown>): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify({ level: value['level'], time: value['time'], msg: value['msg'] });
  }
}
