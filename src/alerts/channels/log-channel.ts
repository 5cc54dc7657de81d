/** The log channel: each notification is one structured pino line (warn; info when resolved). */
import type { Logger } from 'pino';
import { logDeliveryPolicy, type DeliveryPolicy, type NotificationChannel } from './channel.ts';
import { messageSubject, type NotificationMessage } from './message.ts';

export function createLogChannel(
  name: string,
  rateLimit: DeliveryPolicy['rateLimit'],
  logger: Logger,
): NotificationChannel {
  return {
    name,
    type: 'log',
    policy: logDeliveryPolicy(rateLimit),
    deliver(message: NotificationMessage): Promise<void> {
      const fields = {
        notification: {
          deliveryId: message.deliveryId,
          kind: message.kind,
          step: message.step,
          channel: message.channel,
        },
        ...(message.alert ? { alert: message.alert } : {}),
        ...(message.digest ? { digest: message.digest } : {}),
      };
      if (message.kind === 'resolved') logger.info(fields, messageSubject(message));
      else logger.warn(fields, messageSubject(message));
      return Promise.resolve();
    },
  };
}
