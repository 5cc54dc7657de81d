/** Structured logs (pino), JSON to stdout; pretty-printing is left to tools such as pino-pretty. */
import { pino, type Logger, type Level } from 'pino';

export function createLogger(level: Level | 'silent', destination?: NodeJS.WritableStream): Logger {
  return destination
    ? pino({ level, base: { service: 'flotilla' } }, destination)
    : pino({ level, base: { service: 'flotilla' } });
}
