/**
 * Firmware downloads on the device HTTPS API, fetched with curl (a client nobody here wrote), and
 * the bandwidth limit observed through the server's injected clock and timers.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { issueDeviceCert } from '../../src/pki/x509.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { run } from '../helpers/openssl.ts';
import { fakeTime } from '../helpers/fake-time.ts';
import { waitFor } from '../helpers/wait.ts';

describe('firmware downloads (device HTTPS)', () => {
  let fx: ServerFixture;
  let dir: string;
  const image = randomBytes(4 * 1024 * 1024 + 5);
  const sha256 = createHash('sha256').update(image).digest('hex');
  let url: string;
  let tls: { chain: string; cert: string; key: string };

  async function curl(args: string[]): Promise<{ code: number; stdout: string }> {
    try {
      const { stdout } = await run('curl', ['-s', '--cacert', tls.chain, ...args]);
      return { code: 0, stdout };
    } catch (error) {
      return {
        code: (error as { code?: number }).code ?? 1,
        stdout: (error as { stdout?: string }).stdout ?? '',
      };
    }
  }

  before(async () => {
    fx = await createServerFixture({ ota: { maxConcurrentDownloads: 1, downloadRetryAfterS: 7 } });
    dir = await mkdtemp(join(tmpdir(), 'flotilla-dl-'));
    assert.equal((await fx.request('PUT', '/api/v1/firmware/artifacts', image)).status, 201);
    const device = await issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId: 'dl-1', serial: 'SN-DL-1', validityDays: 1 },
      Date.now(),
    );
    tls = { chain: join(dir, 'chain.pem'), cert: join(dir, 'dl-1.pem'), key: join(dir, 'dl-1.key') };
    await writeFile(tls.chain, fx.server().pki.chainPem);
    await writeFile(tls.cert, device.certPem);
    await writeFile(tls.key, device.keyPem, { mode: 0o600 });
    url = `${fx.server().deviceHttpUrl}/device/v1/artifacts/${sha256}`;
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the image to a device with immutable caching headers, and resumes with Range', async () => {
    const out = join(dir, 'image.bin');
    const headers = await curl(['--cert', tls.cert, '--key', tls.key, '-D', '-', '-o', out, url]);
    assert.equal(headers.code, 0);
    assert.match(headers.stdout, /^HTTP\/1\.1 200/);
    assert.match(headers.stdout, new RegExp(`etag: "${sha256}"`, 'i'));
    assert.match(headers.stdout, /cache-control: public, max-age=31536000, immutable/i);
    assert.equal(
      createHash('sha256')
        .update(await readFile(out))
        .digest('hex'),
      sha256,
    );

    // An interrupted download: keep the first 1 MiB and let curl continue where it stopped.
    const partial = join(dir, 'partial.bin');
    await writeFile(partial, image.subarray(0, 1024 * 1024));
    const resumed = await curl([
      '--cert',
      tls.cert,
      '--key',
      tls.key,
      '-C',
      '-',
      '-D',
      '-',
      '-o',
      partial,
      url,
    ]);
    assert.equal(resumed.code, 0);
    assert.match(resumed.stdout, /^HTTP\/1\.1 206/);
    assert.match(
      resumed.stdout,
      new RegExp(`content-range: bytes 1048576-${image.length - 1}/${image.length}`, 'i'),
    );
    assert.equal(
      createHash('sha256')
        .update(await readFile(partial))
        .digest('hex'),
      sha256,
    );

    const cached = await curl([
      '--cert',
      tls.cert,
      '--key',
      tls.key,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `If-None-Match: "${sha256}"`,
      url,
    ]);
    assert.equal(cached.stdout, '304');
    const beyond = await curl([
      '--cert',
      tls.cert,
      '--key',
      tls.key,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-r',
      `${image.length}-`,
      url,
    ]);
    assert.equal(beyond.stdout, '416');
  });

  it('refuses clients without a device certificate and unknown artifacts', async () => {
    assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', url])).stdout, '401');
    const missing = url.replace(sha256, 'f'.repeat(64));
    assert.equal(
      (await curl(['--cert', tls.cert, '--key', tls.key, '-o', '/dev/null', '-w', '%{http_code}', missing]))
        .stdout,
      '404',
    );
  });

  it('serves a signed, unexpired URL without a client certificate, and refuses it tampered', async () => {
    const response = await fetch(
      `http://127.0.0.1:${fx.httpPort}/api/v1/firmware/artifacts/${sha256}/download-url`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ttlS: 600 }),
      },
    );
    assert.equal(response.status, 200);
    const { url: signed } = (await response.json()) as { url: string };
    const out = join(dir, 'signed.bin');
    const fetched = await curl(['-o', out, '-w', '%{http_code}', signed]);
    assert.equal(fetched.stdout, '200');
    assert.equal(
      createHash('sha256')
        .update(await readFile(out))
        .digest('hex'),
      sha256,
    );
    const tampered = signed.replace(/expires=(\d+)/, (_m, s: string) => `expires=${Number(s) + 1}`);
    assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', tampered])).stdout, '401');
  });

  it('answers 503 with Retry-After beyond the concurrent download limit', async () => {
    const certPem = await readFile(tls.cert, 'utf8');
    const keyPem = await readFile(tls.key, 'utf8');
    const ca = await readFile(tls.chain, 'utf8');
    // The first download is held open: its response is not read, so the server stays blocked on it.
    const held = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { ca, cert: certPem, key: keyPem }, resolve);
      req.on('error', reject);
      req.end();
    });
    held.pause();
    const second = await curl(['--cert', tls.cert, '--key', tls.key, '-o', '/dev/null', '-D', '-', url]);
    assert.match(second.stdout, /^HTTP\/1\.1 503/);
    assert.match(second.stdout, /retry-after: 7/i);
    held.destroy();
  });
});

describe('firmware download bandwidth limit (device HTTPS, fake time)', () => {
  const KiB = 1024;
  const rate = 64 * KiB;
  const time = fakeTime();
  const image = randomBytes(1024 * KiB + 5);
  const sha256 = createHash('sha256').update(image).digest('hex');
  let fx: ServerFixture;
  let url: string;
  let tls: { ca: string; cert: string; key: string };

  before(async () => {
    fx = await createServerFixture(
      { ota: { maxDownloadBytesPerS: rate, maxConcurrentDownloads: 1 } },
      { clock: time.clock, timers: time.timers },
    );
    assert.equal((await fx.request('PUT', '/api/v1/firmware/artifacts', image)).status, 201);
    const device = await issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId: 'bw-1', serial: 'SN-BW-1', validityDays: 1 },
      time.clock.now(),
    );
    tls = { ca: fx.server().pki.chainPem, cert: device.certPem, key: device.keyPem };
    url = `${fx.server().deviceHttpUrl}/device/v1/artifacts/${sha256}`;
  });
  after(async () => {
    await fx?.close();
  });

  function get(headers: Record<string, string> = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(url, { ...tls, headers }, resolve);
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * The download pacing's one-shot timers: waits under two seconds. Longer ones belong to
   * background jobs (the telemetry retention job's first run) and must not move the test's time.
   */
  const pacingTimers = () => time.pendingTimeouts().filter((ms) => ms <= 2000);

  /**
   * Downloads to the end, moving fake time only while the server waits for tokens (even the
   * response headers wait for the first bytes); checks after every chunk that no more arrived than
   * one second of burst plus the rate times the time elapsed.
   */
  async function download(
    headers: Record<string, string> = {},
  ): Promise<{ status: number; bytes: number; elapsedMs: number }> {
    const startMs = time.clock.now();
    let status = 0;
    let bytes = 0;
    let ended = false;
    void get(headers).then((response) => {
      status = response.statusCode ?? 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        const allowed = rate + (rate * (time.clock.now() - startMs)) / 1000;
        assert.ok(bytes <= allowed, `${bytes} bytes after ${time.clock.now() - startMs} ms`);
      });
      response.once('end', () => {
        ended = true;
      });
    });
    for (;;) {
      await waitFor(() => ended || pacingTimers().length > 0, {
        what: 'server paced or done',
      });
      if (ended) return { status, bytes, elapsedMs: time.clock.now() - startMs };
      time.advance(250);
    }
  }

  it('sends a download no faster than ota.maxDownloadBytesPerS', async () => {
    const { status, bytes, elapsedMs } = await download();
    assert.equal(status, 200);
    assert.equal(bytes, image.length);
    // One second of burst, then 64 KiB per second: 1 MiB + 5 bytes takes just over 15 s of (fake) time.
    assert.ok(elapsedMs > 15_000 && elapsedMs <= 15_500, `took ${elapsedMs} ms`);
  });

  it('frees the timer and the download slot when the client goes away mid-download', async () => {
    // A second of idle refills the burst, so the headers and the first 64 KiB go out at once.
    time.advance(1000);
    const response = await get();
    assert.equal(response.statusCode, 200);
    response.resume();
    await waitFor(() => pacingTimers().length > 0, { what: 'server waiting for tokens' });
    response.destroy();
    await waitFor(() => pacingTimers().length === 0, { what: 'pacing timer cleared' });
    // maxConcurrentDownloads is 1: this is only served if the aborted download gave its slot back.
    const next = await download({ range: 'bytes=0-99' });
    assert.equal(next.status, 206);
    assert.equal(next.bytes, 100);
  });
});
