/**
 * Maintenance windows: when a device may install an update it has downloaded. Shared by the
 * server (rollout specs, deployments, offers) and the agent (which evaluates it against its own
 * clock). A window opens at every start of a 5-field cron expression read in an IANA time zone
 * and stays open `durationS` seconds of elapsed time; it is open at `t` iff some start `s` has
 * `s <= t < s + durationS`. Protocol and DST rules: docs/architecture.md ("Firmware updates").
 */
import { Cron } from 'croner';
import { z } from 'zod';

const MIN_DURATION_S = 60;
const MAX_DURATION_S = 7 * 24 * 3600;

/**
 * The portable subset of cron: minute, hour, day of month, month, day of week; numbers, `*`,
 * lists, ranges and steps, and three-letter month and day names. No seconds, years, nicknames
 * (`@daily`) or croner/Quartz extensions (`L`, `W`, `#`, `?`), so C firmware can implement it.
 */
const numericField = /^[0-9*,/-]+$/;
const namedField = /^(?:[0-9*,/-]|[A-Za-z]{3})+$/;

/** croner settings for every window: the rules docs/architecture.md states for devices. */
function cronOf(cron: string, timezone: string): Cron {
  return new Cron(cron, {
    timezone,
    paused: true,
    mode: '5-part',
    // Day of month and day of week are OR-combined when both are set (Vixie cron).
    domAndDow: false,
    // A fixed start (no `*` or step in minute and hour) that falls into a DST gap opens when the
    // clock jumps; one that occurs twice opens once, at the first occurrence.
    fixedTimeRule: 'no-wildcard',
  });
}

/** Why the expression is not a portable 5-field cron, or undefined if it is. */
function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5)
    return 'a cron expression has 5 fields: minute hour day-of-month month day-of-week';
  const portable = fields.every((field, index) => (index < 3 ? numericField : namedField).test(field));
  if (!portable) return 'only numbers, *, lists, ranges, steps and month/day names are allowed';
  try {
    // A pattern that never matches (e.g. 30 February) would park devices forever.
    if (cronOf(cron, 'UTC').nextRun(new Date(Date.UTC(2000, 0, 1))) === null) return 'never matches a date';
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
  return undefined;
}

function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

export const maintenanceWindowSchema = z.strictObject({
  /** Starts of the window: a 5-field cron expression in `timezone`, e.g. `0 2 * * *`. */
  cron: z
    .string()
    .max(256)
    .superRefine((cron, ctx) => {
      const problem = cronProblem(cron);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid cron: ${problem}` });
    }),
  /** How long the window stays open after each start, in seconds of elapsed time. */
  durationS: z
    .number()
    .int('durationS must be an integer')
    .min(MIN_DURATION_S, `durationS must be at least ${MIN_DURATION_S}`)
    .max(MAX_DURATION_S, `durationS must be at most ${MAX_DURATION_S} (7 days)`),
  /** IANA time zone the cron expression is read in, e.g. `Europe/Berlin`. */
  timezone: z.string().min(1).max(64).refine(isTimeZone, 'an IANA time zone, e.g. Europe/Berlin'),
});
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;

export interface WindowState {
  open: boolean;
  /** Closed: when it opens next (ms since epoch); absent if it never opens again. */
  opensAtMs?: number;
  /**
   * Open: the end of the current occurrence (ms since epoch). A later start before then extends
   * the open period, so the window is open at least until this time.
   */
  closesAtMs?: number;
}

/**
 * Whether `window` is open at `nowMs`. Only the latest start at or before now can cover now (all
 * occurrences last equally long), so this is one backward and at most one forward cron search.
 */
export function windowState(window: MaintenanceWindow, nowMs: number): WindowState {
  const cron = cronOf(window.cron, window.timezone);
  const durationMs = window.durationS * 1000;
  // previousRuns excludes a run exactly at the reference; starts are whole seconds, so 1 ms later
  // includes a start at `nowMs` itself and nothing after it.
  const [lastStart] = cron.previousRuns(1, new Date(nowMs + 1));
  if (lastStart !== undefined && nowMs < lastStart.getTime() + durationMs)
    return { open: true, closesAtMs: lastStart.getTime() + durationMs };
  const next = cron.nextRun(new Date(nowMs));
  return next === null ? { open: false } : { open: false, opensAtMs: next.getTime() };
}
