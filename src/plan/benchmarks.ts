/**
 * The machine-readable benchmark results (`docs/benchmarks.json`, written by `npm run bench`): the
 * capacity figures the cost model needs. Sections other bench parts add (e.g. `jobs`) are kept
 * and ignored here. Pure.
 */
import { z } from 'zod';
import { ValidationError } from '../infra/errors.ts';
import { formatIssues } from './input-schema.ts';

const n = z.number().nonnegative();

const bytesPerDaySchema = z.object({
  messages: n,
  /** JSON payloads only. */
  payloadBytes: n,
  /** Device → server with MQTT and TLS framing. */
  upstreamBytes: n,
  /** Server → device (PUBACKs and telemetry acks), framed. */
  downstreamBytes: n,
  /** Data points (window × metric) in those messages. */
  points: n,
});

const ingestSchema = z.object({ batchesPerS: n, pointsPerS: n, brokerCpuMsPer1000: n });

export const benchmarkFiguresSchema = z.looseObject({
  /** Where the numbers come from: `npm run bench, <ISO date>` or `docs/benchmarks.md, <date>`. */
  source: z.string().min(1),
  machine: z.looseObject({ cpu: z.string(), cores: z.number().int().positive(), memoryGiB: n }),
  connections: z.object({
    measuredAt: z.string(),
    /** The largest run: its devices, and the broker's memory and CPU per device. */
    devices: n,
    kibPerDevice: n,
    brokerCpuMsPerConnect: n,
    connectsPerS: n,
  }),
  telemetry: z.object({
    measuredAt: z.string(),
    /** Stored ingest on the bench machine (all its cores). */
    sqlite: ingestSchema,
    postgres: ingestSchema,
    /** The same clients to a device topic nothing stores: the broker's cost of a message alone. */
    unstored: ingestSchema.pick({ batchesPerS: true, brokerCpuMsPer1000: true }),
    /** One simulated device for 24 h on the agent's default cadences. */
    bytesPerDevicePerDay: z.object({ aggregated: bytesPerDaySchema, raw: bytesPerDaySchema }),
  }),
  downloads: z.object({
    measuredAt: z.string(),
    /** Flotilla's device HTTPS API at its best concurrency level. */
    mbPerS: n,
    serverCpuSPerGiB: n,
  }),
  deltas: z.object({
    measuredAt: z.string(),
    /** Patch size over new image size for consecutive released binaries (BSDIFF40). */
    releasePatchFraction: n,
  }),
  provisioning: z.object({ measuredAt: z.string(), perS: n, concurrency: n }),
});

export type BenchmarkFigures = z.output<typeof benchmarkFiguresSchema>;

export function parseBenchmarkFigures(document: unknown, file: string): BenchmarkFigures {
  const parsed = benchmarkFiguresSchema.safeParse(document);
  if (!parsed.success)
    throw new ValidationError(
      `invalid benchmark file ${file}:\n  ${formatIssues(parsed.error).join('\n  ')}`,
    );
  return parsed.data;
}
