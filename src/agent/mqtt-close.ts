/** Ending an mqtt.js client without ever hanging. */
import type { MqttClient } from 'mqtt';
import type { Timers } from '../infra/timers.ts';

/** How long a clean end may wait for the broker before the socket is dropped, in milliseconds. */
export const CLOSE_GRACE_MS = 2000;

/** Ends `client`; `force` drops the socket without a DISCONNECT packet. */
export async function closeClient(client: MqttClient, force: boolean, timers: Timers): Promise<void> {
  let graceTimer: unknown;
  await Promise.race([
    client.endAsync(force).catch(() => undefined),
    new Promise<void>((resolve) => {
      graceTimer = timers.setTimeout(resolve, CLOSE_GRACE_MS);
    }),
  ]);
  timers.clearTimeout(graceTimer);
  // The broker did not let go in time (unacknowledged QoS 1, dead link): drop the socket.
  // end(true) would be a no-op here because an end() is already in progress.
  if (!client.disconnected) client.stream.destroy();
}
