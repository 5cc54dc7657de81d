/** Trend points from snapshots, and the trends range rules (docs/dashboard.md). Pure. */
import { ValidationError } from '../infra/errors.ts';
import type { DashboardSnapshot } from '../store/dashboard-types.ts';
import type { TrendPoint } from './overview-schema.ts';

export const DAY_MS = 86_400_000;

/** Points one trends answer holds at most. */
export const MAX_TREND_POINTS = 2000;

const pct = (part: number, whole: number): number | null => (whole > 0 ? (100 * part) / whole : null);

export function trendPoint(snapshot: DashboardSnapshot): TrendPoint {
  return {
    atMs: snapshot.atMs,
    total: snapshot.total,
    online: snapshot.online,
    onlinePct: pct(snapshot.online, snapshot.total),
    onCurrentRelease: snapshot.onCurrentRelease,
    currentPct: pct(snapshot.onCurrentRelease, snapshot.withRelease),
    openAlerts: snapshot.openAlerts,
  };
}

/** The range of `from`/`to` (ISO texts, both optional): the last 24 h before `to` (default now). */
export function trendRange(
  query: { from?: string | undefined; to?: string | undefined },
  nowMs: number,
): { fromMs: number; toMs: number } {
  const toMs = query.to === undefined ? nowMs : Date.parse(query.to);
  const fromMs = query.from === undefined ? toMs - DAY_MS : Date.parse(query.from);
  if (fromMs > toMs)
    throw new ValidationError('from must not be after to', { from: query.from, to: query.to });
  return { fromMs, toMs };
}
