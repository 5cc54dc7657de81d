/** tuf-js fetcher over the device HTTPS API with a device client certificate. */
import { request } from 'node:https';
import { Readable } from 'node:stream';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

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
