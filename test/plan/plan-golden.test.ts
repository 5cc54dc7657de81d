/**
 * Golden documents: the three example inputs rendered byte for byte as committed in
 * test/plan/golden/. After an intended change, regenerate them with
 * `FLOTILLA_UPDATE_GOLDEN=1 node --import tsx --test test/plan/plan-golden.test.ts` and review the diff.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderCostChart, renderPlanMarkdown } from '../../src/plan/index.ts';
import { benchmarks, EXAMPLES, loadExample, plan } from './plan-fixtures.ts';

const update = process.env['FLOTILLA_UPDATE_GOLDEN'] === '1';
const goldenFile = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

async function compare(name: string, actual: string): Promise<void> {
  if (update) {
    await writeFile(goldenFile(name), actual);
    return;
  }
  const expected = await readFile(goldenFile(name), 'utf8');
  assert.equal(
    actual,
    expected,
    `${name} differs from the golden file (FLOTILLA_UPDATE_GOLDEN=1 regenerates it)`,
  );
}

describe('plan golden documents', () => {
  for (const name of EXAMPLES) {
    it(`${name}: the document and the chart match the golden files byte for byte`, async () => {
      const built = plan(await loadExample(name), await benchmarks());
      await compare(`${name}.md`, renderPlanMarkdown(built, { chartFile: `${name}-cost-per-device.svg` }));
      await compare(`${name}-cost-per-device.svg`, renderCostChart(built));
    });

    it(`${name}: building twice gives the same bytes (no clock, no randomness)`, async () => {
      const bench = await benchmarks();
      const render = async () => {
        const built = plan(await loadExample(name), bench);
        return renderPlanMarkdown(built, { chartFile: 'c.svg' }) + renderCostChart(built);
      };
      assert.equal(await render(), await render());
    });
  }
});
