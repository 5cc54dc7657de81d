/**
 * Audit log export: every entry matching a filter, oldest first, read page by page so the
 * whole log is never held in memory, rendered as JSON lines or CSV.
 */
import type { AuditFilter } from '../store/audit-query.ts';
import type { AuditEntry } from '../store/provisioning-types.ts';
import type { Page } from '../store/types.ts';

export type AuditExportFormat = 'jsonl' | 'csv';

export const auditExportPageSize = 500;

export const auditCsvHeader = 'at,actor,action,target,source,details';

/** One CSV field: quoted when it holds a comma, quote, CR or LF; quotes doubled (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function auditCsvRow(entry: AuditEntry): string {
  const { at, actor, action, target, source, details } = entry;
  return [at, actor, action, target, source, JSON.stringify(details)].map(csvField).join(',');
}

export function auditJsonLine(entry: AuditEntry): string {
  return JSON.stringify(entry);
}

export type AuditExportFilter = Omit<AuditFilter, 'cursor' | 'order' | 'limit'>;

/**
 * The export's lines (each ending in `\n`), header first for CSV. `first` is the first page,
 * read by the caller before it commits to a response so that errors still map to a status.
 */
export async function* auditExportLines(
  pageAudit: (filter: AuditFilter) => Promise<Page<AuditEntry>>,
  filter: AuditExportFilter,
  format: AuditExportFormat,
  first: Page<AuditEntry>,
): AsyncGenerator<string> {
  const render = format === 'csv' ? auditCsvRow : auditJsonLine;
  if (format === 'csv') yield `${auditCsvHeader}\n`;
  let page = first;
  for (;;) {
    if (page.items.length > 0) yield page.items.map((entry) => `${render(entry)}\n`).join('');
    if (page.nextCursor === undefined) return;
    page = await pageAudit({
      ...filter,
      order: 'oldest',
      limit: auditExportPageSize,
      cursor: page.nextCursor,
    });
  }
}

/** Reads the first page, then streams the rest. */
export async function exportAudit(
  pageAudit: (filter: AuditFilter) => Promise<Page<AuditEntry>>,
  filter: AuditExportFilter,
  format: AuditExportFormat,
): Promise<AsyncGenerator<string>> {
  const first = await pageAudit({ ...filter, order: 'oldest', limit: auditExportPageSize });
  return auditExportLines(pageAudit, filter, format, first);
}
