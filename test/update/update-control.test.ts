// Install control and outcomes after the reboot: download-now-install-later, the update lock,
// offers that supersede each other, failed health checks, a trial boot that never comes up,
// and the whole flow over HTTPS with a client certificate (mTLS).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/openssl.ts';
import {
  createClient,
  createDevice,
  HW_CUSTOM,
  powerOn,
  readEnv,
  sha256,
  slotHash,
} from './device-fixture.ts';
import { offer, servers, states, updateThroughReboot, world } from './scenario.ts';
import { serveRepo } from './tuf-fixture.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'flotilla-update-ctl-'));
});
after(async () => {
  for (const server of servers) await server.close();
  await rm(base, { recursive: true, force: true });
});

describe('update client: when to install', () => {
  it('installNow=false stops at downloaded; resume() keeps it parked, install() continues', async () => {
    const w = await world(base);
    const slotB = await readFile(w.device.slots.b);
    const { client, reports, rebooted } = createClient(w.device, w.server.url);
    await client.offer(offer({ installNow: false }));
    assert.equal(reports.at(-1)?.state, 'downloaded');
    assert.deepEqual(await readFile(w.device.slots.b), slotB);
    assert.deepEqual(client.current(), { deploymentId: 'dep-1', phase: 'downloaded' });
    // A restart in between changes nothing: install() on a fresh client continues from the journal.
    const later = createClient(w.device, w.server.url, { reports });
    await later.client.resumeAfterBoot();
    await later.client.resume();
    assert.equal(later.rebooted(), false);
    await later.client.install();
    assert.equal(later.rebooted(), true);
    assert.equal(rebooted(), false);
    assert.equal(await slotHash(w.device, 'b', w.newImage.length), sha256(w.newImage));
  });

  it('a new offer with installNow for the same deployment continues a parked download', async () => {
    const w = await world(base);
    const { client, rebooted } = createClient(w.device, w.server.url);
    await client.offer(offer({ installNow: false }));
    assert.equal(rebooted(), false);
    await client.offer(offer({ installNow: true }));
    assert.equal(rebooted(), true);
  });

  it('the update lock defers installing until it clears; force overrides it', async () => {
    const w = await world(base);
    const lock = join(w.device.dir, 'update.lock');
    await writeFile(lock, '');
    const { client, reports, rebooted } = createClient(w.device, w.server.url, {
      options: { updateLock: lock },
    });
    await client.offer(offer());
    assert.equal(reports.at(-1)?.state, 'downloaded');
    assert.match(reports.at(-1)?.detail ?? '', /lock/);
    await client.resume();
    assert.equal(rebooted(), false, 'still locked');
    await unlink(lock);
    await client.resume(); // what the agent's lock re-check does
    assert.equal(rebooted(), true);

    const w2 = await world(base);
    let locked = true;
    const forced = createClient(w2.device, w2.server.url, { options: { updateLock: () => locked } });
    await forced.client.offer(offer({ force: true }));
    assert.equal(forced.rebooted(), true, 'force ignores the lock');
    locked = false;
  });
});

describe('update client: superseding offers', () => {
  it('cancels a job that has not started installing and switches to the new deployment', async () => {
    const w = await world(base);
    const { client, reports, rebooted } = createClient(w.device, w.server.url);
    await client.offer(offer({ installNow: false }));
    await client.offer(offer({ deploymentId: 'dep-2' }));
    const old = reports.filter((r) => r.deploymentId === 'dep-1').at(-1);
    assert.equal(old?.state, 'failed');
    assert.equal(old?.reason, 'cancelled');
    assert.equal(rebooted(), true);
    assert.ok(reports.every((r, i) => i === 0 || r.seq > reports[i - 1]!.seq));
    await client.offer(null); // nothing to cancel once rebooting: no effect
  });

  it('stops a running download at once when another deployment is offered', async () => {
    const w = await world(base);
    const { client, reports, rebooted } = createClient(w.device, w.server.url);
    let second: Promise<void> | undefined;
    w.server.onRequest = (path) => {
      if (path.includes('/targets/')) second ??= client.offer(offer({ deploymentId: 'dep-2' }));
    };
    await client.offer(offer());
    await second;
    const dep1 = reports.filter((r) => r.deploymentId === 'dep-1');
    assert.equal(dep1.at(-1)?.reason, 'cancelled');
    assert.equal(
      dep1.some((r) => r.state === 'downloaded'),
      false,
      'dep-1 never finished downloading',
    );
    assert.equal(reports.at(-1)?.deploymentId, 'dep-2');
    assert.equal(rebooted(), true);
  });

  it('two offers in a row: the first yields before doing anything', async () => {
    const w = await world(base);
    const { client, reports, rebooted } = createClient(w.device, w.server.url);
    await Promise.all([client.offer(offer()), client.offer(offer({ deploymentId: 'dep-2' }))]);
    assert.deepEqual(
      reports.filter((r) => r.deploymentId === 'dep-1').map((r) => [r.state, r.reason]),
      [['failed', 'cancelled']],
    );
    assert.equal(rebooted(), true);
  });

  it('withdrawing the offer (null) cancels a parked download', async () => {
    const w = await world(base);
    const { client, reports } = createClient(w.device, w.server.url);
    await client.offer(offer({ installNow: false }));
    await client.offer(null);
    assert.equal(reports.at(-1)?.reason, 'cancelled');
    assert.equal(client.current(), undefined);
  });

  it('finishes a job whose slot is written, then takes up the queued offer', async () => {
    const w = await world(base, {
      extra: ({ newImage }) => [
        {
          name: 'tracker-1.2.0.img',
          bytes: Buffer.concat([newImage, Buffer.from('1.2')]),
          custom: { version: '1.2.0', hardware: HW_CUSTOM },
        },
      ],
    });
    const first = createClient(w.device, w.server.url);
    await first.client.offer(offer());
    await powerOn(w.device);
    const second = createClient(w.device, w.server.url, { reports: first.reports });
    // The server moved on before the device came back: queued behind dep-1's verification.
    await second.client.offer(
      offer({ deploymentId: 'dep-2', version: '1.2.0', target: 'tracker-1.2.0.img' } as never),
    );
    const byDeployment = (id: string) =>
      first.reports.filter((r) => r.deploymentId === id).map((r) => r.state);
    assert.deepEqual(byDeployment('dep-1').slice(-2), ['verifying', 'success']);
    assert.equal(byDeployment('dep-2').at(-1), 'rebooting');
    assert.equal(second.rebooted(), true);
    assert.deepEqual(await readEnv(w.device), {
      primary: 'b',
      booted: 'b',
      trial: { slot: 'a', triesLeft: 1 },
    });
  });

  it('re-sends the final status when the server offers a finished deployment again', async () => {
    const w = await world(base);
    const { reports, client } = await updateThroughReboot(w);
    const count = reports.length;
    await client.offer(offer());
    assert.equal(reports.length, count + 1);
    assert.equal(reports.at(-1)?.state, 'success');
    assert.ok(reports.at(-1)!.seq > reports[count - 1]!.seq);
  });
});

describe('update client: rollback', () => {
  it('rolls back when the new slot fails its health checks', async () => {
    const w = await world(base);
    const first = createClient(w.device, w.server.url);
    await first.client.offer(offer());
    assert.equal((await powerOn(w.device)).booted, 'b');
    let rounds = 0;
    const unhealthy = createClient(w.device, w.server.url, {
      reports: first.reports,
      healthChecks: [{ name: 'connected', run: () => Promise.resolve((rounds++, false)) }],
    });
    await unhealthy.client.resumeAfterBoot();
    assert.equal(rounds, 3, 'three failed rounds');
    assert.equal(unhealthy.rebooted(), true);
    assert.notEqual(first.reports.at(-1)?.state, 'success');
    assert.equal((await powerOn(w.device)).booted, 'a');
    const back = createClient(w.device, w.server.url, { reports: first.reports });
    await back.client.resumeAfterBoot();
    assert.equal(first.reports.at(-1)?.state, 'rolled-back');
    assert.equal(first.reports.at(-1)?.reason, 'health_check_failed');
    assert.equal(
      first.reports.some((r) => r.state === 'success'),
      false,
    );
    assert.deepEqual(await readEnv(w.device), { primary: 'a', booted: 'a' });
    assert.equal(await slotHash(w.device, 'a', w.oldImage.length), sha256(w.oldImage));
  });

  it('falls back when the trial boot never comes up (power cut during it, twice)', async () => {
    const w = await world(base);
    const first = createClient(w.device, w.server.url);
    await first.client.offer(offer());
    assert.equal((await powerOn(w.device)).booted, 'b'); // trial boot: power cut before the agent runs
    assert.equal((await powerOn(w.device)).booted, 'a'); // fallback boot: cut again
    assert.equal((await powerOn(w.device)).booted, 'a');
    const back = createClient(w.device, w.server.url, { reports: first.reports });
    await back.client.resumeAfterBoot();
    assert.equal(first.reports.at(-1)?.state, 'rolled-back');
    assert.equal(first.reports.at(-1)?.reason, 'trial_boot_failed');
    assert.deepEqual(await readEnv(w.device), { primary: 'a', booted: 'a' });
  });
});

describe('update client over HTTPS with a client certificate', () => {
  it('verifies metadata and downloads with mTLS; refuses without a client certificate', async () => {
    const pki = await makePki(join(await mkdtemp(join(base, 'pki-')), ''));
    const w = await world(base);
    const tlsServer = await serveRepo(w.repo.dir, {
      keyPem: pki.serverKey,
      certPem: pki.serverCert,
      caPem: pki.ca,
    });
    servers.push(tlsServer);
    const device = await createDevice(base, w.repo.dir, w.oldImage);
    const tls = { caPem: pki.ca, certPem: pki.clientCert, keyPem: pki.clientKey };
    const anonymous = createClient(device, tlsServer.url, {
      options: { tls: { ...tls, certPem: '', keyPem: '' } },
    });
    await anonymous.client.offer(offer({ deploymentId: 'anon' }));
    assert.equal(anonymous.reports.at(-1)?.reason, 'download_failed');

    const first = createClient(device, tlsServer.url, { options: { tls } });
    await first.client.offer(offer());
    assert.equal(first.rebooted(), true, JSON.stringify(first.reports));
    assert.equal(states(first.reports).at(-1), 'rebooting');
    await powerOn(device);
    const second = createClient(device, tlsServer.url, { options: { tls }, reports: first.reports });
    await second.client.resumeAfterBoot();
    assert.equal(first.reports.at(-1)?.state, 'success');
  });
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl. */
async function makePki(dir: string) {
  const f = (name: string) => join(dir, name);
  const ec = (name: string) =>
    run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(name)]);
  await ec('ca.key');
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    f('ca.key'),
    '-subj',
    '/CN=Test Fleet CA',
    '-days',
    '2',
    '-out',
    f('ca.pem'),
  ]);
  for (const [name, subject, ext] of [
    ['server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', '/CN=device-1', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await ec(`${name}.key`);
    await run('openssl', [
      'req',
      '-new',
      '-key',
      f(`${name}.key`),
      '-subj',
      subject,
      '-out',
      f(`${name}.csr`),
    ]);
    await writeFile(f(`${name}.ext`), `${ext}\n`);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.pem`),
    ]);
  }
  const read = (name: string) => readFile(f(name), 'utf8');
  return {
    ca: await read('ca.pem'),
    serverKey: await read('server.key'),
    serverCert: await read('server.pem'),
    clientKey: await read('client.key'),
    clientCert: await read('client.pem'),
  };
}
