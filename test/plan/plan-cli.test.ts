/** `flotilla plan` as a user runs it: output files, --json, --strict exit codes, schema errors. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planResultSchema } from '../../src/plan/index.ts';
import { runFlotilla } from '../helpers/flotilla-cli.ts';
import { benchmarks, exampleFile, loadExample, withChanges } from './plan-fixtures.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-plan-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The regulated example on flash for one image and no recovery partition: a blocking contradiction. */
async function contradictoryInput(): Promise<string> {
  const input = structuredClone(await loadExample('plan-cellular-1m'));
  input.hardware.storage = { flashMiB: 256, recoveryPartitionMiB: 0 };
  const file = join(dir, 'contradiction.json');
  await writeFile(file, JSON.stringify(input));
  return file;
}

describe('flotilla plan', () => {
  it('--help lists the options', async () => {
    const result = await runFlotilla(['plan', '--help']);
    assert.equal(result.code, 0);
    for (const option of ['--input', '--server', '--out', '--strict', '--json', '--benchmarks'])
      assert.ok(result.stdout.includes(option), option);
  });

  it('--out writes the document and its chart next to it', async () => {
    const out = join(dir, 'wifi.md');
    const result = await runFlotilla(['plan', '--input', exampleFile('plan-wifi-small'), '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /7 of 7 quality checks pass/);
    const markdown = await readFile(out, 'utf8');
    assert.match(markdown, /^# Fleet plan: Home hubs \(Wi-Fi\)/);
    assert.match(markdown, /Written by `flotilla plan` at \d{4}-\d\d-\d\dT/);
    assert.ok(markdown.includes('![Cost per device against fleet size](wifi-cost-per-device.svg)'));
    assert.match(await readFile(join(dir, 'wifi-cost-per-device.svg'), 'utf8'), /^<svg /);
  });

  it('--json prints the plan as data', async () => {
    const result = await runFlotilla(['plan', '--input', exampleFile('plan-nbiot-battery'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const plan = planResultSchema.parse(JSON.parse(result.stdout));
    assert.equal(plan.costs.length, 4);
    assert.equal(plan.blocking, false);
    assert.equal(plan.benchmarks.source, 'docs/benchmarks.md, 2026-11-27');
  });

  it('--strict exits 3 on a blocking finding; without it the document is still written and the exit is 0', async () => {
    const input = await contradictoryInput();
    const strict = await runFlotilla(['plan', '--input', input, '--strict', '--out', join(dir, 'c.md')]);
    assert.equal(strict.code, 3);
    assert.match(strict.stderr, /error: regulatory\.rollbackMandate: rollback is mandated/);
    assert.match(strict.stderr, /blocking findings \(--strict\)/);
    assert.match(
      await readFile(join(dir, 'c.md'), 'utf8'),
      /\| \*\*error\*\* \| `regulatory.rollbackMandate` \|/,
    );
    const lenient = await runFlotilla(['plan', '--input', input, '--out', join(dir, 'c2.md')]);
    assert.equal(lenient.code, 0);
    const clean = await runFlotilla([
      'plan',
      '--input',
      exampleFile('plan-cellular-1m'),
      '--strict',
      '--out',
      join(dir, 'ok.md'),
    ]);
    assert.equal(clean.code, 0, clean.stderr);
  });

  it('a schema error names the field and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    const text = (await readFile(exampleFile('plan-wifi-small'), 'utf8')).replace(
      'flashMiB: 4096',
      'flashMiB: -4',
    );
    await writeFile(file, text);
    const result = await runFlotilla(['plan', '--input', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /hardware\.storage\.flashMiB: expected a positive number/);
  });

  it('a missing input file or benchmark file is named', async () => {
    const missing = await runFlotilla(['plan', '--input', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read the plan input .*nope\.yaml: ENOENT/);
    const bench = await runFlotilla([
      'plan',
      '--input',
      exampleFile('plan-wifi-small'),
      '--benchmarks',
      join(dir, 'b.json'),
    ]);
    assert.equal(bench.code, 1);
    assert.match(bench.stderr, /cannot read the benchmark file/);
  });

  it('--benchmarks reads other figures and the document cites them', async () => {
    const figures = withChanges(await benchmarks(), {
      source: 'npm run bench, 2027-01-01T00:00:00.000Z',
      'connections.kibPerDevice': 50,
    });
    const file = join(dir, 'bench.json');
    await writeFile(file, JSON.stringify(figures));
    const result = await runFlotilla([
      'plan',
      '--input',
      exampleFile('plan-wifi-small'),
      '--benchmarks',
      file,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.includes('source: npm run bench, 2027-01-01T00:00:00.000Z'));
    assert.ok(result.stdout.includes('| memory per connection | 50 KiB per device'));
  });
});
