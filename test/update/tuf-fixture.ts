/**
 * A real TUF repository (src/signing/tuf) served the way the device API serves it:
 * /device/v1/tuf/<metadata>, /device/v1/tuf/targets/<sha256>.<name> with Range and a strong
 * ETag, /device/v1/artifacts/<sha256>/minisig. Over HTTP, or HTTPS requiring a client certificate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { Metadata, TargetFile, Targets } from '@tufjs/models';
import { parseRange } from '../../src/ota/delivery/http-range.ts';
import { createRepository, ed25519Signer, refreshTimestamp } from '../../src/signing/tuf/index.ts';
import type { Signer, TufRepository } from '../../src/signing/tuf/index.ts';
import {
  fileInfo,
  latestVersion,
  readMetadata,
  targetsDir,
  writeAtomic,
  writeMetadata,
} from '../../src/signing/tuf/layout.ts';
import { publishSnapshot } from '../../src/signing/tuf/online-roles.ts';
import { SPEC_VERSION } from '../../src/signing/tuf/root-metadata.ts';
import { expiresAt, signMetadata } from '../../src/signing/tuf/sign.ts';

export interface RawTarget {
  name: string;
  bytes: Uint8Array;
  /** Any custom object: the repository writer's schema does not know `kind`/`delta` yet. */
  custom: Record<string, unknown>;
}

export interface Repo {
  repo: TufRepository;
  dir: string;
  targetsSigner: Signer;
  /** Publishes targets like addTargets, without validating custom (new targets version). */
  publish(targets: readonly RawTarget[]): Promise<void>;
  /** A new timestamp (version +1) from the clock given at setup. */
  refreshTimestamp(): Promise<void>;
}

export async function createTufRepo(base: string, nowMs: number): Promise<Repo> {
  const dir = await mkdtemp(join(base, 'repo-'));
  const key = () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return { publicKey, signer: ed25519Signer(privateKey) };
  };
  const keys = { root: key(), targets: key(), snapshot: key(), timestamp: key() };
  const repo = await createRepository(
    dir,
    {
      rootKeys: [keys.root.publicKey],
      targetsKeys: [keys.targets.publicKey],
      snapshotKey: keys.snapshot.publicKey,
      timestampKey: keys.timestamp.publicKey,
      rootSigners: [keys.root.signer],
    },
    {
      clock: { now: () => nowMs },
      snapshotSigner: keys.snapshot.signer,
      timestampSigner: keys.timestamp.signer,
    },
  );
  return {
    repo,
    dir,
    targetsSigner: keys.targets.signer,
    publish: (targets) => publishRaw(repo, targets, keys.targets.signer),
    refreshTimestamp: async () => {
      await refreshTimestamp(repo);
    },
  };
}

async function publishRaw(repo: TufRepository, inputs: readonly RawTarget[], signer: Signer): Promise<void> {
  const previousVersion = await latestVersion(repo.dir, 'targets');
  const previous =
    previousVersion > 0 ? (await readMetadata(repo.dir, 'targets', previousVersion)).signed : undefined;
  const files: Record<string, TargetFile> = { ...previous?.targets };
  for (const input of inputs) {
    const info = fileInfo(input.bytes);
    await writeAtomic(join(targetsDir(repo.dir), `${info.hashes.sha256}.${input.name}`), input.bytes);
    files[input.name] = new TargetFile({
      path: input.name,
      ...info,
      unrecognizedFields: { custom: input.custom as never },
    });
  }
  const metadata = new Metadata(
    new Targets({
      version: previousVersion + 1,
      specVersion: SPEC_VERSION,
      expires: expiresAt(repo.clock.now(), repo.lifetimesMs.targets),
      targets: files,
    }),
  );
  await signMetadata(metadata, [signer]);
  await writeMetadata(repo.dir, 'targets', metadata);
  await publishSnapshot(repo);
}

export interface ServerTls {
  keyPem: string;
  certPem: string;
  /** CA that device client certificates must chain to. */
  caPem: string;
}

export interface RepoServer {
  url: string;
  /** Signature texts by image sha256. */
  signatures: Map<string, string>;
  /** Bytes served instead of the stored file, by file name under targets/ (tampering). */
  replaced: Map<string, Buffer>;
  /** Requests seen: path and Range header. */
  requests: { path: string; range?: string }[];
  /** Drops the connection after this many body bytes of the next target response. */
  cutNextAfterBytes?: number;
  /** Called for every request before it is answered. */
  onRequest?: (path: string) => void;
  /** True: the connection is dropped without an answer (a server that went away mid-request). */
  hangUp?: (path: string) => boolean;
  close(): Promise<void>;
}

export async function serveRepo(dir: string, tls?: ServerTls): Promise<RepoServer> {
  const state: RepoServer = {
    url: '',
    signatures: new Map(),
    replaced: new Map(),
    requests: [],
    close: async () => {},
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(state, dir, req, res).catch(() => res.writeHead(500).end());
  };
  const server: Server = tls
    ? createHttpsServer(
        { key: tls.keyPem, cert: tls.certPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true },
        handler,
      )
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

async function handle(
  state: RepoServer,
  dir: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  state.requests.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}) });
  state.onRequest?.(path);
  if (state.hangUp?.(path) === true) {
    req.socket.destroy();
    return;
  }
  const sig = /^\/device\/v1\/artifacts\/([0-9a-f]{64})\/minisig$/.exec(path);
  if (sig) {
    const text = state.signatures.get(sig[1] ?? '');
    if (text === undefined) res.writeHead(404).end();
    else res.writeHead(200).end(text);
    return;
  }
  const target = /^\/device\/v1\/tuf\/targets\/([^/]+)$/.exec(path);
  if (target) {
    const name = basename(target[1] ?? '');
    const bytes =
      state.replaced.get(name) ?? (await readFile(join(targetsDir(dir), name)).catch(() => undefined));
    if (!bytes) return void res.writeHead(404).end();
    return sendRange(state, req, res, bytes, name);
  }
  const meta = /^\/device\/v1\/tuf\/([^/]+\.json)$/.exec(path);
  if (meta) {
    const bytes = await readFile(join(dir, basename(meta[1] ?? ''))).catch(() => undefined);
    if (!bytes) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(bytes);
    return;
  }
  res.writeHead(404).end();
}

function sendRange(
  state: RepoServer,
  req: IncomingMessage,
  res: ServerResponse,
  bytes: Buffer,
  name: string,
): void {
  const range = parseRange(req.headers.range, bytes.length);
  const etag = `"${name.split('.')[0] ?? ''}"`;
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
    return;
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, bytes.length - 1];
  const headers: Record<string, string | number> = {
    etag,
    'accept-ranges': 'bytes',
    'content-length': end - start + 1,
  };
  if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
  res.writeHead(range.kind === 'partial' ? 206 : 200, headers);
  const body = bytes.subarray(start, end + 1);
  const cut = state.cutNextAfterBytes;
  state.cutNextAfterBytes = undefined;
  void streamBody(res, body, cut);
}

/** Writes the body in 8 KiB pieces (so the client sees several chunks); `cutAfter` drops the connection. */
async function streamBody(res: ServerResponse, body: Buffer, cutAfter: number | undefined): Promise<void> {
  const PIECE = 8192;
  for (let at = 0; at < body.length; at += PIECE) {
    if (res.destroyed) return;
    if (cutAfter !== undefined && at >= cutAfter) {
      res.destroy();
      return;
    }
    const piece = body.subarray(at, Math.min(body.length, at + PIECE, cutAfter ?? Infinity));
    await new Promise<void>((resolve) => res.write(piece, () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  res.end();
}

/** Copies root version 1 into a device's metadata dir (TUF 5.2: shipped with the device). */
export async function installTrustedRoot(repoDir: string, metadataDir: string): Promise<void> {
  await writeFile(join(metadataDir, 'root.json'), await readFile(join(repoDir, '1.root.json')));
}

export async function listTargets(dir: string): Promise<string[]> {
  return readdir(targetsDir(dir));
}
