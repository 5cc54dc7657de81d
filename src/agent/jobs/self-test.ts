/**
 * The `self-test` operation's checks, each pass or fail with a detail: state dir writable, clock
 * sane, certificate validity left, broker round trip, free disk. The simulator adds its own.
 */
import { statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCertificateInfo } from '../certificate-info.ts';
import type { ActionOutcome } from './types.ts';

export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

export type SelfTestCheck = () => Promise<CheckResult>;

/** Earliest plausible wall-clock time: a device clock before this has not been set (no RTC, no NTP). */
export const CLOCK_SANE_AFTER_MS = Date.UTC(2024, 0, 1);
const DAY_MS = 86_400_000;

export async function runSelfTest(checks: readonly SelfTestCheck[]): Promise<ActionOutcome> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      results.push(await check());
    } catch (err) {
      results.push({ name: 'unknown', passed: false, detail: (err as Error).message });
    }
  }
  const failed = results.filter((r) => !r.passed);
  const result = { passed: failed.length === 0, checks: results };
  if (failed.length === 0) return { ok: true, result, message: `${results.length} checks passed` };
  return {
    ok: false,
    code: 'self_test_failed',
    message: `failed: ${failed.map((r) => r.name).join(', ')}`,
    result,
  };
}

export function stateDirWritableCheck(dir: string): SelfTestCheck {
  return async () => {
    const probe = join(dir, `.self-test-${process.pid}`);
    try {
      await writeFile(probe, 'ok');
      await unlink(probe);
      return { name: 'state-dir-writable', passed: true, detail: dir };
    } catch (err) {
      return { name: 'state-dir-writable', passed: false, detail: (err as Error).message };
    }
  };
}

export function clockSaneCheck(nowMs: () => number): SelfTestCheck {
  return () => {
    const now = nowMs();
    const passed = now >= CLOCK_SANE_AFTER_MS;
    const detail = `${new Date(now).toISOString()}${passed ? '' : ' is before 2024: the clock is not set'}`;
    return Promise.resolve({ name: 'clock-sane', passed, detail });
  };
}

export function certificateCheck(certPem: () => string, nowMs: () => number): SelfTestCheck {
  return () => {
    const info = readCertificateInfo(certPem());
    const daysLeft = Math.floor((info.notAfterMs - nowMs()) / DAY_MS);
    const passed = daysLeft >= 1 && nowMs() >= info.notBeforeMs;
    return Promise.resolve({
      name: 'certificate-validity',
      passed,
      detail: `${daysLeft} days left (until ${new Date(info.notAfterMs).toISOString()})`,
    });
  };
}

export function brokerRoundTripCheck(roundTripMs: number | undefined): SelfTestCheck {
  return () =>
    Promise.resolve(
      roundTripMs === undefined
        ? { name: 'broker-round-trip', passed: false, detail: 'the in-progress report was not acknowledged' }
        : { name: 'broker-round-trip', passed: true, detail: `${roundTripMs} ms publish → PUBACK` },
    );
}

export function freeDiskCheck(dir: string, minFreeBytes: number): SelfTestCheck {
  return async () => {
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    return {
      name: 'free-disk',
      passed: free >= minFreeBytes,
      detail: `${Math.floor(free / 1048576)} MiB free (at least ${Math.ceil(minFreeBytes / 1048576)} MiB needed)`,
    };
  };
}
