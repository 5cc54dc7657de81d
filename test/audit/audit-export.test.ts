/** The pure export pieces: CSV quoting, and pages read lazily, one at a time, oldest first. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditCsvRow, csvField, exportAudit } from '../../src/audit/audit-export.ts';
import type { AuditFilter } from '../../src/store/audit-query.ts';
import type { AuditEntry } from '../../src/store/provisioning-types.ts';
import type { Page } from '../../src/store/types.ts';

const entry = (id: number): AuditEntry => ({
  id,
  at: new Date(Date.UTC(2026, 0, 1) + id).toISOString(),
  actor: 'api',
  action: 'device.revoked',
  target: `d-${id}`,
  source: 'local',
  details: { id },
});

describe('audit export', () => {
  it('quotes CSV fields holding commas, quotes or line breaks (RFC 4180)', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    assert.equal(
      auditCsvRow({ ...entry(1), details: { note: 'x, "y"' } }),
      '2026-01-01T00:00:00.001Z,api,device.revoked,d-1,local,"{""note"":""x, \\""y\\""""}"',
    );
  });

  it('reads the next page only when the previous one was consumed, passing filters and cursor', async () => {
    const requests: AuditFilter[] = [];
    const pages: Array<Page<AuditEntry>> = [
      { items: [entry(1), entry(2)], nextCursor: 'c1' },
      { items: [entry(3)], nextCursor: 'c2' },
      { items: [] },
    ];
    const pageAudit = (filter: AuditFilter) => {
      requests.push(filter);
      return Promise.resolve(pages[requests.length - 1] ?? { items: [] });
    };
    const lines = await exportAudit(pageAudit, { actor: 'api', fromMs: 5 }, 'csv');
    assert.equal(requests.length, 1, 'the first page is read before streaming starts');
    assert.deepEqual(requests[0], { actor: 'api', fromMs: 5, order: 'oldest', limit: 500 });

    assert.equal((await lines.next()).value, 'at,actor,action,target,source,details\n');
    const firstPage = (await lines.next()).value as string;
    assert.equal(firstPage.split('\n').length, 3);
    assert.equal(requests.length, 1);
    const secondPage = (await lines.next()).value as string;
    assert.match(secondPage, /^2026-01-01T00:00:00.003Z,api,device.revoked,d-3,local,/);
    assert.equal(requests.length, 2);
    assert.equal(requests[1]?.cursor, 'c1');
    assert.equal((await lines.next()).done, true);
    assert.equal(requests.length, 3);
    assert.equal(requests[2]?.cursor, 'c2');
  });

  it('renders JSON lines, one entry per line', async () => {
    const lines = await exportAudit(() => Promise.resolve({ items: [entry(1), entry(2)] }), {}, 'jsonl');
    let text = '';
    for await (const chunk of lines) text += chunk;
    assert.deepEqual(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as AuditEntry),
      [entry(1), entry(2)],
    );
  });
});
