/**
 * The CLI's stored API tokens: `$XDG_CONFIG_HOME/flotilla/credentials.json` (default
 * `~/.config/flotilla`), one entry per server URL, written 0600 in a 0700 directory. A token is
 * chosen by `--token`, then FLOTILLA_TOKEN, then the stored one for the server.
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const storedTokenSchema = z.object({
  token: z.string().min(1),
  tokenId: z.string().min(1),
  user: z.string(),
  expiresAt: z.string(),
});
export type StoredToken = z.infer<typeof storedTokenSchema>;

const credentialsFileSchema = z.record(z.string(), storedTokenSchema);

export function credentialsPath(env: NodeJS.ProcessEnv): string {
  const base =
    env['XDG_CONFIG_HOME'] !== undefined && env['XDG_CONFIG_HOME'] !== ''
      ? env['XDG_CONFIG_HOME']
      : join(env['HOME'] ?? homedir(), '.config');
  return join(base, 'flotilla', 'credentials.json');
}

/** The key of a server in the file: its origin (`http://127.0.0.1:8080`). */
export function serverKey(serverUrl: string): string {
  try {
    return new URL(serverUrl).origin;
  } catch {
    return serverUrl;
  }
}

function readAll(file: string): Record<string, StoredToken> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const parsed = credentialsFileSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : {};
}

function writeAll(file: string, all: Record<string, StoredToken>): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

export function storedToken(serverUrl: string, env: NodeJS.ProcessEnv): StoredToken | undefined {
  return readAll(credentialsPath(env))[serverKey(serverUrl)];
}

export function storeToken(serverUrl: string, token: StoredToken, env: NodeJS.ProcessEnv): string {
  const file = credentialsPath(env);
  writeAll(file, { ...readAll(file), [serverKey(serverUrl)]: token });
  return file;
}

/** Removes the server's entry; false when there was none. */
export function forgetToken(serverUrl: string, env: NodeJS.ProcessEnv): boolean {
  const file = credentialsPath(env);
  const all = readAll(file);
  const key = serverKey(serverUrl);
  if (all[key] === undefined) return false;
  delete all[key];
  writeAll(file, all);
  return true;
}

/** The bearer token for `serverUrl`: FLOTILLA_TOKEN (set by `--token` too), else the stored one. */
export function tokenFor(serverUrl: string, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env['FLOTILLA_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return storedToken(serverUrl, env)?.token;
}
