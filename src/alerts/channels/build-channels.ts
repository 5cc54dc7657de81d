/** The configured channels, built once at start-up (webhook secrets read from their files). */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import { ConfigError } from '../../infra/errors.ts';
import type { AlertsConfig, ChannelConfig } from '../escalation/escalation-config.ts';
import type { NotificationChannel } from './channel.ts';
import { createEmailChannel } from './email-channel.ts';
import { createLogChannel } from './log-channel.ts';
import { createWebhookChannel } from './webhook-channel.ts';

async function readSecret(name: string, file: string): Promise<string> {
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < 16) throw new Error('shorter than 16 characters');
    return secret;
  } catch (err) {
    throw new ConfigError(`alerts.channels.${name}.secretFile: ${file}: ${(err as Error).message}`);
  }
}

async function buildChannel(
  name: string,
  config: ChannelConfig,
  deps: { clock: Clock; logger: Logger },
): Promise<NotificationChannel> {
  switch (config.type) {
    case 'log':
      return createLogChannel(name, config.rateLimit, deps.logger);
    case 'email':
      return createEmailChannel(name, config, config);
    case 'webhook': {
      const secret = config.secret ?? (await readSecret(name, config.secretFile ?? ''));
      return createWebhookChannel({ name, url: config.url, secret, policy: config }, deps);
    }
  }
}

/** Every configured channel, plus `log` (always there; its rate limit can be configured). */
export async function buildChannels(
  config: AlertsConfig,
  deps: { clock: Clock; logger: Logger },
): Promise<NotificationChannel[]> {
  const configs: Record<string, ChannelConfig> = {
    log: { type: 'log', rateLimit: { max: 100, windowS: 60, digestListMax: 10 } },
    ...config.channels,
  };
  return Promise.all(Object.entries(configs).map(([name, channel]) => buildChannel(name, channel, deps)));
}
