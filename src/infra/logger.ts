/** Structured logs (pino), JSON lines; pretty-printing is left to tools such as pino-pretty. */
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger writing to stdout, or to `destination` (the CLI tools log to stderr). */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'flotilla' } };
  return destination ? pino(options, destination) : pino(options);
}
