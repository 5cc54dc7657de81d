/**
 * Delta-update benchmark: for each pair of real binaries, the size of the patch and the time to
 * build it with Flotilla's delta (BSDIFF40 via src/ota/delta), Debian `bsdiff` and `xdelta3 -9`,
 * all in the same run. Every Flotilla patch is checked by applying it with Debian `bspatch`.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createPatch, sha256File } from '../src/ota/delta/bsdiff.ts';

const run = promisify(execFile);

export type DeltaTool = 'flotilla' | 'bsdiff' | 'xdelta3';

export interface DeltaPair {
  name: string;
  oldFile: string;
  newFile: string;
}

export interface DeltaResult {
  pair: string;
  tool: DeltaTool;
  oldBytes: number;
  newBytes: number;
  patchBytes: number;
  buildMs: number;
  /** Whether applying the patch reproduced the new file's sha256 (Debian bspatch / xdelta3 -d). */
  verified: boolean;
}

/** Deterministic PRNG (mulberry32), so the mutated binary is the same on every run. */
function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A "next build" of a binary: `edits` scattered byte changes, a 4 KiB insert at 1/3 and a 2 KiB
 * delete at 2/3 of the file, seeded so it is reproducible.
 */
export function mutateBinary(bytes: Uint8Array, seed: number, edits = 3000): Uint8Array {
  const random = prng(seed);
  const byte = (): number => Math.floor(random() * 256);
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < edits; i++) out[Math.floor(random() * out.length)] = byte();
  const insert = Uint8Array.from({ length: 4096 }, byte);
  const at = Math.floor(out.length / 3);
  const cut = Math.floor((out.length * 2) / 3);
  return Buffer.concat([out.subarray(0, at), insert, out.subarray(at, cut), out.subarray(cut + 2048)]);
}

/** The esbuild binary that ships in node_modules (a real ~10 MB native executable). */
export function localEsbuildBinary(): string {
  const pkg = createRequire(import.meta.url).resolve('@esbuild/linux-x64/package.json');
  return join(dirname(pkg), 'bin', 'esbuild');
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Fetches one released esbuild binary with `npm pack` into `dir` (cached across runs). */
async function releasedEsbuild(dir: string, version: string): Promise<string> {
  const target = join(dir, `esbuild-${version}`);
  if (await exists(target)) return target;
  await run('npm', ['pack', `@esbuild/linux-x64@${version}`, '--pack-destination', dir], { cwd: dir });
  const tgz = join(dir, `esbuild-linux-x64-${version}.tgz`);
  await run('tar', [
    '-xzf',
    tgz,
    '-C',
    dir,
    '--transform',
    `s|package/bin/esbuild|esbuild-${version}|`,
    'package/bin/esbuild',
  ]);
  return target;
}

/** The pairs measured: a seeded "next build" of the local binary and, if reachable, two esbuild releases. */
export async function prepareDeltaPairs(dir: string): Promise<DeltaPair[]> {
  await mkdir(dir, { recursive: true });
  const oldFile = localEsbuildBinary();
  const newFile = join(dir, 'esbuild-mutated');
  await writeFile(newFile, mutateBinary(await readFile(oldFile), 1));
  const pairs: DeltaPair[] = [{ name: 'esbuild + 3000 edits, 4 KiB insert, 2 KiB delete', oldFile, newFile }];
  try {
    const [older, newer] = [await releasedEsbuild(dir, '0.25.0'), await releasedEsbuild(dir, '0.25.1')];
    pairs.push({ name: 'esbuild 0.25.0 → 0.25.1 (released binaries)', oldFile: older, newFile: newer });
  } catch (error) {
    process.stderr.write(`skipping the release pair (npm pack failed): ${String(error)}\n`);
  }
  return pairs;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function sameAs(file: string, expectedSha256: string): Promise<boolean> {
  return (await sha256File(file)) === expectedSha256;
}

async function measurePair(pair: DeltaPair, dir: string, index: number): Promise<DeltaResult[]> {
  const { oldFile, newFile } = pair;
  const base = join(dir, `pair${index}`);
  const sizes = { oldBytes: (await stat(oldFile)).size, newBytes: (await stat(newFile)).size };
  const want = await sha256File(newFile);
  const result = async (
    tool: DeltaTool,
    patch: string,
    buildMs: number,
    verified: boolean,
  ): Promise<DeltaResult> => ({
    pair: pair.name,
    tool,
    ...sizes,
    patchBytes: (await stat(patch)).size,
    buildMs,
    verified,
  });

  const ours = await createPatch(oldFile, newFile, `${base}.flotilla.bsdiff`);
  await run('bspatch', [oldFile, `${base}.flotilla.out`, `${base}.flotilla.bsdiff`]);
  const flotilla = await result(
    'flotilla',
    `${base}.flotilla.bsdiff`,
    ours.ms,
    await sameAs(`${base}.flotilla.out`, want),
  );

  const bsdiffMs = await timed(() => run('bsdiff', [oldFile, newFile, `${base}.debian.bsdiff`]));
  await run('bspatch', [oldFile, `${base}.debian.out`, `${base}.debian.bsdiff`]);
  const debian = await result(
    'bsdiff',
    `${base}.debian.bsdiff`,
    bsdiffMs,
    await sameAs(`${base}.debian.out`, want),
  );

  const xdeltaMs = await timed(() =>
    run('xdelta3', ['-e', '-9', '-f', '-s', oldFile, newFile, `${base}.vcdiff`]),
  );
  await run('xdelta3', ['-d', '-f', '-s', oldFile, `${base}.vcdiff`, `${base}.xdelta.out`]);
  const xdelta = await result(
    'xdelta3',
    `${base}.vcdiff`,
    xdeltaMs,
    await sameAs(`${base}.xdelta.out`, want),
  );
  return [flotilla, debian, xdelta];
}

/** Measures every pair with the three tools; scratch files go to `dir`. */
export async function measureDeltas(dir: string): Promise<DeltaResult[]> {
  const pairs = await prepareDeltaPairs(dir);
  const results: DeltaResult[] = [];
  for (const [index, pair] of pairs.entries()) results.push(...(await measurePair(pair, dir, index)));
  return results;
}

const TOOL_LABEL: Record<DeltaTool, string> = {
  flotilla: 'Flotilla (`createPatch`: BSDIFF40)',
  bsdiff: 'Debian `bsdiff` 4.3 (spawned)',
  xdelta3: '`xdelta3 -e -9` (spawned)',
};

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Markdown section for docs/benchmarks.md. */
export function renderDeltaSection(results: DeltaResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.pair} | ${TOOL_LABEL[r.tool]} | ${fmt(r.newBytes / 1024 / 1024, 2)} | ${fmt(r.patchBytes)} | ${fmt((100 * r.patchBytes) / r.newBytes, 2)} % | ${fmt(r.buildMs / 1000, 2)} | ${r.verified ? 'yes' : '**NO**'} |`,
  );
  return `## Firmware deltas

Patch size and build time for each pair of real binaries, every tool in the same run. "Applies" means the
patch, applied to the old file (Debian \`bspatch\`; \`xdelta3 -d\`), reproduced the new file's sha256.

| pair | tool | new (MiB) | patch (bytes) | of new | build (s) | applies |
| --- | --- | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}
`;
}
