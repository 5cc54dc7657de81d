/** What the plan found wrong or missing in its inputs; `error` findings fail `--strict`. Pure. */

export interface Finding {
  severity: 'error' | 'warning';
  /** The input field the finding is about, e.g. `regulatory.rollbackMandate`. */
  field: string;
  message: string;
}

/** One choice the plan made, and why (every row of the OTA and telemetry tables cites one). */
export interface Decision {
  topic: string;
  choice: string;
  reason: string;
}

export const hasErrors = (findings: readonly Finding[]): boolean =>
  findings.some((f) => f.severity === 'error');
