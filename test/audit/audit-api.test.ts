/** The audit log over real HTTP and through the CLI: filters, paging, export in JSONL and CSV, errors. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NewAuditEntry } from '../../src/store/provisioning-types.ts';
import { runFlotilla } from '../helpers/flotilla-cli.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

interface Entry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  source: string;
  details: Record<string, unknown>;
}
interface AuditPage {
  items: Entry[];
  nextCursor?: string;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: Array<{ field: string }> } };
}

/** A tiny RFC 4180 parser: quoted fields may hold commas, doubled quotes and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  assert.equal(field, '', 'the CSV ends with a newline');
  return rows;
}

const t0 = Date.UTC(2026, 0, 1);
const tricky = { note: 'a, "quoted"\nvalue', n: 1 };

describe('audit log API and CLI', () => {
  let fx: ServerFixture;
  const base = () => `http://127.0.0.1:${fx.httpPort}`;
  const cli = (args: string[]) => runFlotilla([...args, '--server', base()]);
  // Existing entries (none expected on a fresh server) are excluded by the time filter.
  const window = `from=${t0}&to=${t0 + 86_400_000}`;
  const range = ['--from', String(t0), '--to', new Date(t0 + 86_400_000).toISOString()];

  before(async () => {
    fx = await createServerFixture();
    const entries: NewAuditEntry[] = [];
    // 1203 entries: more than two export pages of 500.
    for (let i = 0; i < 1203; i++) {
      entries.push({
        atMs: t0 + i * 10,
        actor: i % 3 === 0 ? 'cli' : 'api',
        action: i % 2 === 0 ? 'alert.opened' : 'device.revoked',
        target: `dev-${i % 7}`,
        source: i % 5 === 0 ? 'local' : '10.0.0.9',
        details: i === 0 ? tricky : { i },
      });
    }
    for (const entry of entries) await fx.server().stores.provisioning.appendAudit(entry);
  });
  after(async () => {
    await fx?.close();
  });

  it('filters and pages newest first over HTTP', async () => {
    const seen: Entry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await fx.api<AuditPage>(
        `/api/v1/audit?${window}&actor=cli&actionPrefix=alert.&limit=50${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(page.status, 200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== undefined);
    // i % 6 === 0: 201 entries over 5 pages of 50.
    assert.equal(seen.length, 201);
    assert.equal(pages, 5);
    assert.ok(seen.every((e) => e.actor === 'cli' && e.action === 'alert.opened'));
    const times = seen.map((e) => Date.parse(e.at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );

    const iso = new Date(t0 + 100).toISOString();
    const ranged = await fx.api<AuditPage>(
      `/api/v1/audit?from=${t0 + 50}&to=${encodeURIComponent(iso)}&source=10.0.0.9&target=dev-1`,
    );
    assert.deepEqual(
      ranged.body.items.map((e) => e.details['i']),
      [8],
    );
  });

  it('exports every matching entry oldest first as JSON lines, across pages', async () => {
    const response = await fetch(`${base()}/api/v1/audit/export?${window}&format=jsonl`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
    assert.match(
      response.headers.get('content-disposition') ?? '',
      /^attachment; filename="flotilla-audit\.jsonl"$/,
    );
    const text = await response.text();
    assert.ok(text.endsWith('\n'));
    const entries = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Entry);
    assert.equal(entries.length, 1203);
    assert.deepEqual(entries[0]?.details, tricky);
    assert.equal(new Set(entries.map((e) => e.id)).size, 1203);
    assert.deepEqual(
      entries.map((e) => Date.parse(e.at)),
      entries.map((_, i) => t0 + i * 10),
    );
  });

  it('exports CSV with a header and quoted fields that parse back', async () => {
    const response = await fetch(`${base()}/api/v1/audit/export?${window}&format=csv&actionPrefix=alert.`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(response.headers.get('content-disposition') ?? '', /filename="flotilla-audit\.csv"/);
    const rows = parseCsv(await response.text());
    assert.deepEqual(rows[0], ['at', 'actor', 'action', 'target', 'source', 'details']);
    assert.equal(rows.length, 1 + 602);
    assert.deepEqual(rows[1], [
      new Date(t0).toISOString(),
      'cli',
      'alert.opened',
      'dev-0',
      'local',
      JSON.stringify(tricky),
    ]);
    assert.deepEqual(JSON.parse(rows[1]?.[5] ?? ''), tricky);
    assert.deepEqual(JSON.parse(rows[2]?.[5] ?? ''), { i: 2 });
  });

  it('answers bad parameters with 400 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['/api/v1/audit?limit=0', 'query.limit'],
      ['/api/v1/audit?from=yesterday', 'query.from'],
      [`/api/v1/audit?from=${t0 + 10}&to=${t0}`, 'query.from'],
      ['/api/v1/audit?actionPrefix=', 'query.actionPrefix'],
      ['/api/v1/audit?colour=red', 'query'],
      ['/api/v1/audit/export?format=xml', 'query.format'],
      ['/api/v1/audit/export?to=soon', 'query.to'],
    ];
    for (const [path, field] of cases) {
      const response = await fx.api<ErrorBody>(path);
      assert.equal(response.status, 400, path);
      assert.equal(response.body.error.code, 'validation_failed', path);
      const fields = (response.body.error.details?.issues ?? []).map((i) => i.field);
      assert.ok(fields.includes(field), `${path}: ${fields.join(', ')}`);
    }
    const badCursor = await fx.api<ErrorBody>('/api/v1/audit?cursor=bm9wZQ');
    assert.equal(badCursor.status, 400);
    assert.match(badCursor.body.error.message, /cursor/);
  });

  it('declares both routes in the OpenAPI document', async () => {
    const doc = await fx.api<{ paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> }>(
      '/openapi.json',
    );
    const names = (path: string) => (doc.body.paths[path]?.get?.parameters ?? []).map((p) => p.name).sort();
    assert.deepEqual(names('/api/v1/audit/export'), [
      'action',
      'actionPrefix',
      'actor',
      'format',
      'from',
      'source',
      'target',
      'to',
    ]);
    assert.ok(names('/api/v1/audit').includes('cursor'));
  });

  it('lists and exports through the CLI', async () => {
    const list = await cli([
      'audit',
      'list',
      '--actor',
      'cli',
      '--target',
      'dev-0',
      ...range,
      '--all',
      '--json',
    ]);
    assert.equal(list.code, 0, list.stderr);
    const { items } = JSON.parse(list.stdout) as AuditPage;
    // i % 3 === 0 and i % 7 === 0: i % 21 === 0, i < 1203.
    assert.equal(items.length, 58);

    const table = await cli(['audit', 'list', '--action-prefix', 'device.', '--limit', '2', ...range]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^AT\s+ACTION\s+TARGET/);
    assert.equal(table.stdout.trimEnd().split('\n').length, 3);

    const csv = await cli(['audit', 'export', '--format', 'csv', '--action', 'device.revoked', ...range]);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parseCsv(csv.stdout);
    assert.equal(rows.length, 1 + 601);

    const out = join(fx.dataDir, 'audit.jsonl');
    const file = await cli(['audit', 'export', '--out', out, '--target', 'dev-3', ...range]);
    assert.equal(file.code, 0, file.stderr);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 172);
    assert.equal((JSON.parse(lines[0] ?? '') as Entry).target, 'dev-3');

    const bad = await cli(['audit', 'export', '--format', 'xml']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /format/);

    const help = await runFlotilla(['audit', 'export', '--help']);
    assert.match(help.stdout, /--action-prefix/);
    assert.match(help.stdout, /Examples:/);
  });
});
