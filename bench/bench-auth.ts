/**
 * The benchmarks call the management API like any client: as the server's first admin (password
 * from `<dataDir>/initial-admin-password`, written at its first start), through an API token.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `Authorization` header value of a fresh one-day API token of the first admin. */
export async function adminAuthorization(httpPort: number, dataDir: string): Promise<string> {
  const base = `http://127.0.0.1:${httpPort}`;
  const password = (await readFile(join(dataDir, 'initial-admin-password'), 'utf8')).trim();
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (!login.ok) throw new Error(`bench: admin login failed: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const created = await fetch(`${base}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ name: `bench-${process.pid}-${Date.now()}`, expiresInS: 86_400 }),
  });
  if (!created.ok) throw new Error(`bench: token creation failed: ${created.status} ${await created.text()}`);
  const { secret } = (await created.json()) as { secret: string };
  return `Bearer ${secret}`;
}
