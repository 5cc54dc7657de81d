/**
 * The CLI against a server with access control: `flotilla login` stores a token (0600) that other
 * commands then send, users and tokens are managed from the command line, logout revokes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFlotilla } from '../helpers/flotilla-cli.ts';
import { ADMIN_PASSWORD, startAuthServer, type AuthServer } from './auth-server.ts';
import { commandHelp } from '../helpers/cli-help.ts';

describe('flotilla login, users, tokens, logout', () => {
  let server: AuthServer;
  let configHome: string;
  let env: Record<string, string>;
  before(async () => {
    server = await startAuthServer();
    configHome = await mkdtemp(join(tmpdir(), 'flotilla-cli-auth-'));
    env = { XDG_CONFIG_HOME: configHome, FLOTILLA_URL: server.base, FLOTILLA_TOKEN: '' };
  });
  after(async () => {
    await server.fx.close();
    await rm(configHome, { recursive: true, force: true });
  });

  it('needs credentials, logs in with FLOTILLA_PASSWORD and stores the token 0600 for the server', async () => {
    const anonymous = await runFlotilla(['devices', 'list', '--json'], env);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /authentication required/);

    const login = await runFlotilla(['login', '--user', 'admin'], {
      ...env,
      FLOTILLA_PASSWORD: ADMIN_PASSWORD,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /logged in to .* as admin; token tok_[0-9a-f]+ expires/);
    const file = join(configHome, 'flotilla', 'credentials.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    const list = await runFlotilla(['devices', 'list', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    const me = await runFlotilla(['whoami', '--json'], env);
    assert.equal((JSON.parse(me.stdout) as { user: string }).user, 'admin');
  });

  it('adds a scoped user, lists users, creates and revokes a token', async () => {
    const add = await runFlotilla(['users', 'add', 'ops', '--role', 'operator@group = "eu-west"'], {
      ...env,
      FLOTILLA_PASSWORD: 'an operator password',
    });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /user ops created \(operator@group = "eu-west"\)/);
    const users = await runFlotilla(['users', 'list', '--json'], env);
    assert.deepEqual(
      (JSON.parse(users.stdout) as { items: Array<{ name: string }> }).items.map((u) => u.name),
      ['admin', 'ops'],
    );
    const created = await runFlotilla(
      ['tokens', 'create', 'ci', '--expires-in-days', '1', '--role', 'viewer', '--json'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const { token, secret } = JSON.parse(created.stdout) as { token: { id: string }; secret: string };
    const asViewer = await runFlotilla(['--token', secret, 'whoami', '--json'], env);
    assert.deepEqual((JSON.parse(asViewer.stdout) as { roles: unknown }).roles, [{ role: 'viewer' }]);
    assert.equal((await runFlotilla(['tokens', 'revoke', token.id], env)).code, 0);
    const revoked = await runFlotilla(['whoami'], { ...env, FLOTILLA_TOKEN: secret });
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /API token revoked/);
    const disable = await runFlotilla(['users', 'disable', 'ops'], env);
    assert.equal(disable.code, 0, disable.stderr);
  });

  it('prints help for every access command', async () => {
    const commands = [
      ['login'],
      ['logout'],
      ['whoami'],
      ...['add', 'list', 'set-roles', 'disable'].map((sub) => ['users', sub]),
      ...['create', 'list', 'revoke'].map((sub) => ['tokens', sub]),
    ];
    const bin = await runFlotilla(['login', '--help'], env);
    assert.equal(bin.code, 0, bin.stderr);
    for (const path of commands) assert.match(commandHelp(path), /--server <url>/, path.join(' '));
  });

  it('logout revokes the stored token and forgets it', async () => {
    const logout = await runFlotilla(['logout'], env);
    assert.equal(logout.code, 0, logout.stderr);
    const after = await runFlotilla(['devices', 'list'], env);
    assert.equal(after.code, 1);
  });
});
