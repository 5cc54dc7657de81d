/** One device's configuration as the API shows it. Pure. */
import type { DeviceConfigRecord } from '../store/device-config-types.ts';
import type { DeviceConfigView } from './config-api.ts';
import type { ResolvedConfig } from './effective.ts';
import { sameValues } from './merge.ts';

export function buildView(
  deviceId: string,
  record: DeviceConfigRecord | undefined,
  resolved: ResolvedConfig,
): DeviceConfigView {
  const sent = record?.sent ?? { values: {}, version: 0, sentAt: null };
  const reported = record?.reported
    ? {
        version: record.reported.report.version,
        values: record.reported.report.values,
        pendingRestart: record.reported.report.pendingRestart,
        rejected: record.reported.report.rejected,
        at: record.reported.at,
      }
    : null;
  const inSync =
    reported !== null &&
    record?.schema !== undefined &&
    sent.version > 0 &&
    reported.version === sent.version &&
    reported.pendingRestart.length === 0 &&
    reported.rejected.length === 0 &&
    sameValues(resolved.values, sent.values);
  return {
    deviceId,
    desired: record?.desired ?? { values: {}, version: 0, updatedAt: null },
    effective: resolved,
    sent,
    reported,
    schema: record?.schema?.schema ?? null,
    pendingRestart: reported?.pendingRestart ?? [],
    rejected: reported?.rejected ?? [],
    inSync,
  };
}
