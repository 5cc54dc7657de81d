/** Waiting for the operator to stop a long-running command (agent daemon, simulator). */

export type ShutdownReason = 'SIGINT' | 'SIGTERM' | 'aborted';

/** The part of `process` used here, so callers can pass a fake. */
export interface SignalSource {
  once(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/**
 * Resolves on the first SIGINT or SIGTERM, or when `signal` aborts. Listeners are removed
 * afterwards, so a second Ctrl-C gets Node's default behaviour (exit) if stopping hangs.
 */
export function waitForShutdown(
  options: { signal?: AbortSignal; signals?: SignalSource } = {},
): Promise<ShutdownReason> {
  const source = options.signals ?? process;
  return new Promise((resolve) => {
    const finish = (reason: ShutdownReason) => {
      source.off('SIGINT', onInt);
      source.off('SIGTERM', onTerm);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    const onInt = () => finish('SIGINT');
    const onTerm = () => finish('SIGTERM');
    const onAbort = () => finish('aborted');
    if (options.signal?.aborted) return finish('aborted');
    source.once('SIGINT', onInt);
    source.once('SIGTERM', onTerm);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
