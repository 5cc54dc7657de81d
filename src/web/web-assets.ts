/**
 * The dashboard's assets: the single-page app in src/web/app is bundled by esbuild the first time
 * it is asked for (about a second) and then served from memory, minified, gzip-compressed, with
 * an ETag so a reload costs one 304. No build step and no second server: `npm start` serves it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface WebAsset {
  body: Buffer;
  gzipped: Buffer;
  contentType: string;
  etag: string;
}

export interface WebAssets {
  /** The HTML shell served at `/`. */
  index(): Promise<WebAsset>;
  /** `app.js` or `app.css`; undefined for anything else. */
  asset(name: string): Promise<WebAsset | undefined>;
  /** Builds the bundle now (at start) instead of on the first request. */
  prebuild(): Promise<void>;
}

const appDir = fileURLToPath(new URL('./app/', import.meta.url));

async function toAsset(body: Buffer, contentType: string): Promise<WebAsset> {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, gzipped: await gzipAsync(body, { level: 9 }), contentType, etag };
}

/** Bundles once per process (the promise is shared, so concurrent first requests build once). */
export function createWebAssets(): WebAssets {
  let bundle: Promise<Map<string, WebAsset>> | undefined;
  let shell: Promise<WebAsset> | undefined;
  const build = async (): Promise<Map<string, WebAsset>> => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [`${appDir}main.tsx`],
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2022',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir: '/virtual',
      entryNames: 'app',
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const assets = new Map<string, WebAsset>();
    for (const file of result.outputFiles) {
      const name = file.path.slice(file.path.lastIndexOf('/') + 1);
      const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
      assets.set(name, await toAsset(Buffer.from(file.contents), type));
    }
    return assets;
  };
  return {
    index() {
      shell ??= readFile(`${appDir}index.html`).then((html) => toAsset(html, 'text/html; charset=utf-8'));
      return shell;
    },
    async asset(name) {
      if (name !== 'app.js' && name !== 'app.css') return undefined;
      bundle ??= build().catch((err: unknown) => {
        bundle = undefined;
        throw err;
      });
      return (await bundle).get(name);
    },
    async prebuild() {
      await this.asset('app.js');
    },
  };
}
