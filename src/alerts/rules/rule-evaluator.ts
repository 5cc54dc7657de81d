/**
 * One evaluation of one rule, as a pure decision: given what the rule's subjects were (pending or
 * firing), which subjects match now (with the severity they reach) and the time, which alerts to
 * raise or clear and which states to write. No I/O; the driver (rule-cycle.ts) reads and writes.
 *
 * - A subject starts pending when it first matches (`sinceMs` = now, `streak` = 1).
 * - It fires once it has matched continuously for `forMs` and on `repeat` consecutive
 *   evaluations; firing raises the alert at the severity it reaches now.
 * - While firing, a change of severity (battery 8 % → 4 %) raises again: the one alert escalates.
 * - A subject that stops matching leaves the state; if it was firing its alert is cleared
 *   (auto-resolve). A pending subject that stops matching starts over next time.
 * States change only on these transitions, so a stable fleet writes nothing per cycle.
 */
import type { AlertSeverity, AlertSubject } from '../alert.ts';

/** What the store keeps per rule and subject between evaluations (and across restarts). */
export interface SubjectState {
  subject: AlertSubject;
  /** When the condition started to hold (ms since epoch). */
  sinceMs: number;
  /** Consecutive evaluations it has held, counted up to the rule's `repeat`. */
  streak: number;
  /** The severity of the raised alert; null while pending. */
  firing: AlertSeverity | null;
}

/** A subject the rule's condition matches now. */
export interface Observation {
  subject: AlertSubject;
  severity: AlertSeverity;
  /** The metric value behind it (null for query rules). */
  value: number | null;
}

export interface RuleTiming {
  forMs: number;
  repeat: number;
}

export interface RuleDecision {
  /** Alerts to open, or to update with a new severity. */
  raise: Array<Observation & { sinceMs: number; escalation: boolean }>;
  /** Firing subjects whose condition cleared. */
  clear: AlertSubject[];
  /** New or changed states. */
  upsert: SubjectState[];
  /** Subjects that no longer match. */
  remove: AlertSubject[];
}

export const subjectKey = (subject: AlertSubject): string => `${subject.kind}:${subject.id}`;

export function decideRule(
  timing: RuleTiming,
  previous: readonly SubjectState[],
  matches: readonly Observation[],
  nowMs: number,
): RuleDecision {
  const before = new Map(previous.map((state) => [subjectKey(state.subject), state]));
  const decision: RuleDecision = { raise: [], clear: [], upsert: [], remove: [] };
  const matched = new Set<string>();
  for (const match of matches) {
    const key = subjectKey(match.subject);
    matched.add(key);
    const prior = before.get(key);
    const state: SubjectState = {
      subject: match.subject,
      sinceMs: prior?.sinceMs ?? nowMs,
      streak: Math.min(timing.repeat, (prior?.streak ?? 0) + 1),
      firing: prior?.firing ?? null,
    };
    const due = nowMs - state.sinceMs >= timing.forMs && state.streak >= timing.repeat;
    if (due && state.firing !== match.severity) {
      decision.raise.push({ ...match, sinceMs: state.sinceMs, escalation: state.firing !== null });
      state.firing = match.severity;
    }
    if (prior === undefined || prior.streak !== state.streak || prior.firing !== state.firing)
      decision.upsert.push(state);
  }
  for (const [key, state] of before) {
    if (matched.has(key)) continue;
    decision.remove.push(state.subject);
    if (state.firing !== null) decision.clear.push(state.subject);
  }
  return decision;
}
