/**
 * Live updates: one EventSource on `/api/v1/dashboard/events` per page that wants them. The server
 * sends `event: overview` with the same JSON as `GET /api/v1/dashboard/overview` at connect and
 * whenever it is recomputed; EventSource reconnects by itself after a server restart.
 */
import { useEffect, useState } from 'preact/hooks';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export function useLiveEvent<T>(event: string, onData: (data: T) => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    const source = new EventSource('/api/v1/dashboard/events');
    const handler = (message: MessageEvent<string>) => {
      setState('live');
      onData(JSON.parse(message.data) as T);
    };
    source.addEventListener(event, handler as EventListener);
    source.onopen = () => setState('live');
    source.onerror = () => setState('reconnecting');
    return () => source.close();
    // onData is the caller's setter; reconnecting on every render would drop the stream.
  }, [event]);
  return state;
}
