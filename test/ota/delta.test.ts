/**
 * Firmware deltas against the real tools: a 2 MiB slice of the esbuild binary and a seeded
 * "next build" of it, patched by Flotilla and by Debian bsdiff/bspatch 4.3 (/usr/bin).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { registerFirmwareDiffCommand, type FirmwareDiffSummary } from '../../src/cli/firmware-diff.ts';
import { applyPatch, createPatch, InvalidPatchError, sha256File } from '../../src/ota/delta/bsdiff.ts';
import { ConfigError } from '../../src/infra/errors.ts';
import { localEsbuildBinary, mutateBinary } from '../../bench/delta.ts';

const run = promisify(execFile);
const SLICE_BYTES = 2 * 1024 * 1024;

/** Runs `flotilla firmware <args>` in-process; resolves with what it printed. */
async function firmware(...args: string[]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const program = new Command('flotilla').exitOverride();
  registerFirmwareDiffCommand(program.command('firmware'), out);
  await program.parseAsync(['firmware', ...args], { from: 'user' });
  return Buffer.concat(chunks).toString('utf8');
}

describe('firmware deltas (BSDIFF40)', () => {
  let dir: string;
  const f = (name: string): string => join(dir, name);
  let newSha256: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-delta-'));
    const old = (await readFile(localEsbuildBinary())).subarray(0, SLICE_BYTES);
    await writeFile(f('old'), old);
    await writeFile(f('new'), mutateBinary(old, 1, 2000));
    await writeFile(f('other-base'), mutateBinary(old, 2, 20_000));
    newSha256 = await sha256File(f('new'));
    await createPatch(f('old'), f('new'), f('ours.bsdiff'));
    await run('bsdiff', [f('old'), f('new'), f('debian.bsdiff')]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a patch that Debian bspatch applies to the exact new image', async () => {
    const patch = await readFile(f('ours.bsdiff'));
    assert.equal(patch.subarray(0, 8).toString('latin1'), 'BSDIFF40');
    assert.ok(patch.length < SLICE_BYTES / 20, `patch of ${patch.length} bytes`);
    await run('bspatch', [f('old'), f('by-bspatch'), f('ours.bsdiff')]);
    assert.equal(await sha256File(f('by-bspatch')), newSha256);
  });

  it('is byte-identical to Debian bsdiff on the same pair', async () => {
    assert.deepEqual(await readFile(f('ours.bsdiff')), await readFile(f('debian.bsdiff')));
  });

  it("applies Debian bsdiff's patch, checking both hashes", async () => {
    const oldSha256 = await sha256File(f('old'));
    await applyPatch(f('old'), f('debian.bsdiff'), f('applied'), { oldSha256, newSha256 });
    assert.equal(await sha256File(f('applied')), newSha256);
  });

  it('refuses a patch made for another base, before applying it', async () => {
    const oldSha256 = await sha256File(f('old'));
    await assert.rejects(
      applyPatch(f('other-base'), f('ours.bsdiff'), f('wrong-base'), { oldSha256 }),
      (e: unknown) => e instanceof InvalidPatchError && /another base/.test(e.message),
    );
    // Without the base hash bspatch "succeeds" with garbage: the result hash catches it.
    await assert.rejects(
      applyPatch(f('other-base'), f('ours.bsdiff'), f('wrong-base'), { newSha256 }),
      (e: unknown) => e instanceof InvalidPatchError && /expected sha256/.test(e.message),
    );
    await assert.rejects(access(f('wrong-base')));
  });

  it('refuses truncated, garbage and over-limit patches with a reason', async () => {
    const patch = await readFile(f('ours.bsdiff'));
    const cases: [string, Buffer, RegExp, number?][] = [
      ['truncated', patch.subarray(0, patch.length - 200), /past the end|too short|corrupt/i],
      ['header only', patch.subarray(0, 32), /past the end|too short/],
      ['garbage', Buffer.alloc(4096, 0x5a), /not a BSDIFF40 patch/],
      [
        'damaged stream',
        Buffer.concat([patch.subarray(0, 200), Buffer.alloc(64), patch.subarray(264)]),
        /corrupt/i,
      ],
      ['over the limit', patch, /exceeds the limit/, 1024],
    ];
    for (const [name, bytes, reason, maxNewBytes] of cases) {
      await writeFile(f(`${name}.bsdiff`), bytes);
      await assert.rejects(
        applyPatch(f('old'), f(`${name}.bsdiff`), f(`${name}.out`), { maxNewBytes }),
        (e: unknown) => e instanceof InvalidPatchError && reason.test(e.message),
        name,
      );
      await assert.rejects(access(f(`${name}.out`)), name);
    }
  });

  it('says which tool is missing, and stops when aborted', async () => {
    const tools = { bsdiff: join(dir, 'no-bsdiff'), bspatch: join(dir, 'no-bspatch') };
    await assert.rejects(createPatch(f('old'), f('new'), f('x.bsdiff'), { tools }), ConfigError);
    await assert.rejects(createPatch(f('old'), f('new'), f('x.bsdiff'), { signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
    await assert.rejects(access(f('x.bsdiff')));
  });

  it('`firmware diff` writes a patch and prints its size and ratio', async () => {
    const text = await firmware('diff', f('old'), f('new'), '--out', f('cli.bsdiff'));
    const bytes = (await stat(f('cli.bsdiff'))).size;
    assert.match(text, /patch written: .*cli\.bsdiff/);
    assert.match(text, /KiB for a 2\.00 MiB image \(\d+\.\d\d %\)/);
    const json = JSON.parse(
      await firmware('diff', f('old'), f('new'), '--out', f('cli2.bsdiff'), '--json'),
    ) as FirmwareDiffSummary;
    assert.equal(json.format, 'BSDIFF40');
    assert.equal(json.patch.bytes, bytes);
    assert.equal(json.new.sha256, newSha256);
    assert.ok(Math.abs(json.ratio - bytes / SLICE_BYTES) < 0.01);
  });

  it('`firmware diff` reports a missing input without writing a patch', async () => {
    await assert.rejects(
      firmware('diff', f('missing'), f('new'), '--out', f('none.bsdiff')),
      /cannot read old image/,
    );
    await assert.rejects(access(f('none.bsdiff')));
  });
});
