/** Live refresh of the rollout pages: a hook, kept apart so rollout-format.ts stays plain functions (unit-tested under node). */
import { useEffect, useRef } from 'preact/hooks';

/** Calls `callback` every `intervalMs` while `active` (live pages refresh active rollouts). */
export function useInterval(callback: () => void, intervalMs: number, active: boolean): void {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => latest.current(), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, active]);
}
