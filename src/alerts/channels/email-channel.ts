/**
 * Email channel over SMTP (nodemailer): one message per notification to the configured
 * recipients. SMTP 4xx replies and connection failures are retryable; 5xx replies are not.
 */
import nodemailer from 'nodemailer';
import type { EmailChannelConfig } from '../escalation/escalation-config.ts';
import { DeliveryError, type DeliveryPolicy, type NotificationChannel } from './channel.ts';
import { messageSubject, messageText, type NotificationMessage } from './message.ts';

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const abort = (): void => reject(new DeliveryError('timed out', true));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

export function createEmailChannel(
  name: string,
  config: EmailChannelConfig,
  policy: DeliveryPolicy,
): NotificationChannel {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: !config.secure && config.requireTls,
    ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.pass } } : {}),
    connectionTimeout: policy.timeoutMs,
    greetingTimeout: policy.timeoutMs,
    socketTimeout: policy.timeoutMs,
  });
  return {
    name,
    type: 'email',
    policy,
    async deliver(message: NotificationMessage, signal: AbortSignal): Promise<void> {
      const sending = transport.sendMail({
        from: config.from,
        to: config.to,
        subject: messageSubject(message),
        text: messageText(message),
        headers: { 'X-Flotilla-Delivery': message.deliveryId },
      });
      try {
        await Promise.race([sending, rejectOnAbort(signal)]);
      } catch (err) {
        if (err instanceof DeliveryError) throw new DeliveryError(`email ${name}: ${err.message}`, true);
        const code = (err as { responseCode?: number }).responseCode;
        const retryable = code === undefined || code < 500;
        throw new DeliveryError(`email ${name}: ${(err as Error).message}`, retryable);
      } finally {
        sending.catch(() => undefined);
      }
    },
    close(): Promise<void> {
      transport.close();
      return Promise.resolve();
    },
  };
}
