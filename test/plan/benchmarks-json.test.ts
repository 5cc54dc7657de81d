/** `npm run bench` keeps docs/benchmarks.json readable by the plan: merged per section, other sections kept. */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { writeBenchmarksJson } from '../../bench/benchmarks-json.ts';
import { readBenchmarkFigures } from '../../src/plan/index.ts';

const machine = { cpu: 'Test CPU', cores: 4, memoryGiB: 16, kernel: 'k', node: 'v20', mosquitto: 'm' };

describe('docs/benchmarks.json from the bench', () => {
  it('replaces the measured sections, keeps the others and foreign sections, and stays valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-json-'));
    try {
      const file = join(dir, 'benchmarks.json');
      await copyFile(fileURLToPath(new URL('../../docs/benchmarks.json', import.meta.url)), file);
      const withJobs = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...withJobs, jobs: { dispatchPerS: 1 } }));
      const date = new Date(Date.UTC(2027, 0, 2));
      const gib = 2 ** 30;
      await writeBenchmarksJson(
        {
          downloads: {
            nginxVersion: 'n',
            date,
            results: [
              {
                server: 'flotilla',
                clients: 1,
                downloads: 4,
                failed: 0,
                fileBytes: gib / 4,
                wallMs: 2000,
                p50Ms: 1,
                p99Ms: 1,
                serverCpuMs: 1500,
              },
              {
                server: 'nginx',
                clients: 1,
                downloads: 4,
                failed: 0,
                fileBytes: gib / 4,
                wallMs: 1000,
                p50Ms: 1,
                p99Ms: 1,
                serverCpuMs: 500,
              },
            ],
          },
          deltas: [
            {
              pair: 'synthetic',
              tool: 'flotilla',
              oldBytes: 100,
              newBytes: 100,
              patchBytes: 1,
              buildMs: 1,
              verified: true,
            },
            {
              pair: 'x (released binaries)',
              tool: 'flotilla',
              oldBytes: 100,
              newBytes: 200,
              patchBytes: 10,
              buildMs: 1,
              verified: true,
            },
          ],
        },
        machine,
        date,
        file,
      );
      const figures = await readBenchmarkFigures(file);
      assert.equal(figures.source, 'npm run bench, 2027-01-02T00:00:00.000Z');
      assert.equal(figures.machine.cores, 4);
      assert.equal(figures.downloads.measuredAt, '2027-01-02T00:00:00.000Z');
      assert.equal(figures.downloads.serverCpuSPerGiB, 1.5);
      assert.equal(figures.deltas.releasePatchFraction, 0.05);
      // Not measured in this run: the committed figure stays, with its own date.
      assert.equal(figures.connections.kibPerDevice, 72.7);
      assert.equal(figures.connections.measuredAt, '2026-11-27T02:35:26.490Z');
      assert.deepEqual(figures['jobs'], { dispatchPerS: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
