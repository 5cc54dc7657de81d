/** The agent's configuration state on disk (`<stateDir>/config.json`), replaced atomically. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { configRejectionSchema, configValuesSchema } from '../../contracts/config-messages.ts';
import { writeFileDurably } from '../durable-file.ts';
import type { ConfigState } from './config-plan.ts';

const stateSchema = z.object({
  version: z.number().int().nonnegative(),
  applied: configValuesSchema,
  pending: configValuesSchema,
  rejected: z.array(configRejectionSchema).default([]),
});

/** Undefined when there is no file yet; a damaged file counts as none (the server sends the document again). */
export async function loadConfigState(
  path: string,
  warn: (reason: string) => void,
): Promise<ConfigState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = stateSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    warn(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  } catch {
    warn('not JSON');
  }
  return undefined;
}

export function saveConfigState(path: string, state: ConfigState): Promise<void> {
  return writeFileDurably(path, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}
