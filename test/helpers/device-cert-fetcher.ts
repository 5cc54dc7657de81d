/** tuf-js fetcher over the device HTTPS API with a device client certificate. */
import { copyFile, mkdir } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BaseFetcher, Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { issueDeviceCert } from '../../src/pki/x509.ts';
import type { ServerFixture } from './server-fixture.ts';

export class DeviceCertFetcher extends BaseFetcher {
  constructor(private readonly tls: { ca: string; cert: string; key: string }) {
    super();
  }
  override fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    return new Promise((resolve, reject) => {
      const req = request(url, { ...this.tls }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new DownloadHTTPError(`GET ${url}: ${res.statusCode}`, res.statusCode ?? 0));
          return;
        }
        resolve(Readable.toWeb(res) as ReadableStream<Uint8Array<ArrayBuffer>>);
      });
      req.on('error', reject);
      req.end();
    });
  }
}

/**
 * A device of the fixture's server with its own certificate, bootstrapped with the repository's
 * first root (TUF 5.2), and a factory for real tuf-js Updaters fetching over the device HTTPS API.
 */
export async function deviceTufClient(
  fx: ServerFixture,
  dir: string,
  identity: { deviceId: string; serial: string },
): Promise<{
  device: { certPem: string; keyPem: string };
  fetcher: DeviceCertFetcher;
  base: string;
  updater: () => Updater;
}> {
  const device = await issueDeviceCert(
    fx.server().pki.issuingCa,
    { ...identity, validityDays: 1 },
    Date.now(),
  );
  const fetcher = new DeviceCertFetcher({
    ca: fx.server().pki.chainPem,
    cert: device.certPem,
    key: device.keyPem,
  });
  const metadataDir = join(dir, 'metadata');
  await mkdir(metadataDir);
  await copyFile(join(fx.dataDir, 'tuf', 'repo', '1.root.json'), join(metadataDir, 'root.json'));
  const base = `${fx.server().deviceHttpUrl}/device/v1/tuf`;
  const updater = () =>
    new Updater({
      metadataDir,
      metadataBaseUrl: base,
      targetBaseUrl: `${base}/targets`,
      targetDir: join(dir, 'targets'),
      fetcher,
      config: { fetchRetry: false },
    });
  return { device, fetcher, base, updater };
}
