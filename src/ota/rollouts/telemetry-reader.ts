/** The health-regression gate's TelemetryReader over the telemetry store's raw windows. */
import type { TelemetryStore } from '../../store/telemetry-types.ts';
import type { MetricSummary, TelemetryReader } from './health-observations.ts';

export function telemetryReader(store: Pick<TelemetryStore, 'summarizeRanges'>): TelemetryReader {
  return {
    async summarizeRanges(ranges, metrics) {
      const stored = await store.summarizeRanges(ranges, metrics);
      const result = new Map<string, Map<string, MetricSummary>>();
      for (const [deviceId, byMetric] of stored) {
        const summaries = new Map<string, MetricSummary>();
        for (const [metric, s] of byMetric)
          summaries.set(metric, {
            sum: s.sum,
            coveredMs: s.coveredMs,
            first: { atMs: s.firstAtMs, value: s.first },
            last: { atMs: s.lastAtMs, value: s.last },
          });
        result.set(deviceId, summaries);
      }
      return result;
    },
  };
}
