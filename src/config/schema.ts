/** The server's configuration: one schema, with units in names. */
import { z } from 'zod';
import { LOG_LEVELS } from '../infra/logger.ts';
import { alertsConfigSchema } from '../alerts/escalation/escalation-config.ts';
import { anomalyConfigSchema } from '../anomaly/anomaly-config.ts';

const port = z.number().int().min(0).max(65535);
const logLevel = z.enum(LOG_LEVELS);

export const serverConfigSchema = z.strictObject({
  /** Everything the embedded default writes lives here (database, CA, certificates). */
  dataDir: z.string().min(1).default('.data'),
  http: z
    .strictObject({
      /** Management API and dashboard (access control: `auth`). */
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8080),
    })
    .prefault({}),
  mqtt: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(8883),
      /** Host name or IP that devices use to reach the broker; goes into the server certificate SAN. */
      publicHost: z.string().min(1).default('localhost'),
    })
    .prefault({}),
  deviceHttp: z
    .strictObject({
      /** Device HTTPS API (provisioning, renewal) with client certificates. */
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(8443),
    })
    .prefault({}),
  provisioning: z
    .strictObject({
      /** Lifetime of device certificates issued at provisioning and renewal. */
      deviceCertValidityDays: z.number().int().min(1).max(3650).default(365),
    })
    .prefault({}),
  ota: z
    .strictObject({
      /** Largest firmware image accepted, in bytes (default 1 GiB). */
      maxArtifactBytes: z
        .number()
        .int()
        .min(1)
        .default(1024 * 1024 * 1024),
      /** Firmware downloads served at once; more get 503 with Retry-After. */
      maxConcurrentDownloads: z.number().int().min(1).default(200),
      /** What a refused download is told to wait, in seconds. */
      downloadRetryAfterS: z.number().int().min(1).default(30),
      /** minisign public keys (bare base64 lines) an operator's uploaded image signature may use. */
      minisignPublicKeys: z.array(z.string().min(1)).default([]),
      /** Bytes per second sent by all firmware downloads together (token bucket); 0 = unlimited. */
      maxDownloadBytesPerS: z.number().int().min(0).default(0),
      /** Bytes per second sent by any one download (per request); 0 = unlimited. */
      maxDownloadBytesPerSPerClient: z.number().int().min(0).default(0),
    })
    .prefault({}),
  store: z
    .strictObject({
      kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
      /** SQLite file; relative paths are inside dataDir. */
      sqliteFile: z.string().min(1).default('flotilla.db'),
      /** e.g. postgres://user@127.0.0.1:5432/flotilla */
      postgresUrl: z.string().min(1).optional(),
      /** PostgreSQL schema to hold Flotilla's tables. */
      postgresSchema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
        .default('flotilla'),
    })
    .prefault({})
    .refine((s) => s.kind !== 'postgres' || s.postgresUrl !== undefined, {
      message: 'store.postgresUrl is required when store.kind is "postgres"',
      path: ['postgresUrl'],
    }),
  presence: z
    .strictObject({
      /** How often batched last-seen updates are written. */
      flushIntervalMs: z.number().int().min(10).max(60_000).default(1000),
    })
    .prefault({}),
  rollouts: z
    .strictObject({
      /** How often the orchestrator checks every active rollout (starts devices, evaluates gates). */
      tickIntervalS: z.number().min(0.01).max(3600).default(10),
      /**
       * How often an active rollout re-selects the whole registry for devices that joined its
       * selector; between rescans each tick reads only the devices changed since the last one.
       */
      rescanIntervalS: z.number().min(1).max(86_400).default(600),
    })
    .prefault({}),
  fleetMetrics: z
    .strictObject({
      /** How often the fleet and saved-group summaries behind /metrics are recomputed. */
      refreshIntervalS: z.number().min(1).max(86_400).default(60),
      /** Saved groups given per-group series on /metrics at most (bounded cardinality). */
      maxGroups: z.number().int().min(0).max(1000).default(50),
    })
    .prefault({}),
  dashboard: z
    .strictObject({
      /** How often a whole-fleet snapshot is stored for the dashboard's trends. */
      snapshotIntervalS: z.number().min(1).max(86_400).default(60),
      /** Snapshots older than this are deleted. */
      snapshotRetentionDays: z.number().min(1).max(3650).default(30),
      /** How often the live stream (GET /api/v1/dashboard/events) recomputes and sends the overview. */
      liveIntervalS: z.number().min(1).max(3600).default(5),
      /**
       * Prepare the dashboard at start (in the background): bundle the web app, compute the whole-fleet
       * overview and keep it at most `overviewMaxAgeS` old, so a first visit waits for neither.
       */
      prepareAtStart: z.boolean().default(true),
      /** The overview's first answer to a page may be this old; the live stream sends a fresh one at once. */
      overviewMaxAgeS: z.number().min(1).max(3600).default(30),
    })
    .prefault({}),
  telemetry: z
    .strictObject({
      /** A record timestamped later than now + this is refused (timestamp_future). */
      maxClockSkewS: z.number().int().min(0).max(86_400).default(300),
      /** Distinct application metric names a device may use; a new name past it is refused (too_many_metrics). */
      maxAppMetricsPerDevice: z.number().int().min(1).max(10_000).default(100),
      /**
       * How long each tier is kept, in days. Raw retention also bounds what ingest accepts: a record
       * older than its raw retention is refused (timestamp_past).
       */
      retentionDays: z
        .strictObject({
          healthRaw: z.number().int().min(1).max(36_500).default(90),
          appRaw: z.number().int().min(1).max(36_500).default(30),
          /** Events: errors, boots, update statuses. */
          events: z.number().int().min(1).max(36_500).default(365),
          hourlyRollups: z.number().int().min(1).max(36_500).default(400),
          dailyRollups: z.number().int().min(1).max(36_500).default(1830),
        })
        .prefault({}),
      /** The retention job: archives expired raw days to Parquet, then deletes them (docs/telemetry.md). */
      archive: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** How often the job runs; it also runs `initialDelayS` after start. */
          intervalS: z.number().int().min(1).max(604_800).default(3600),
          initialDelayS: z.number().int().min(0).max(86_400).default(60),
          /** Rows read from the store per page, and per Parquet row group. */
          pageRows: z.number().int().min(100).max(1_000_000).default(50_000),
        })
        .prefault({}),
      writer: z
        .strictObject({
          /** Batches (from any devices) written in one transaction at most. */
          maxBatchesPerWrite: z.number().int().min(1).max(10_000).default(500),
          /** How long a batch may wait for others before its transaction is written. */
          flushIntervalMs: z.number().int().min(1).max(10_000).default(20),
          /** Batches waiting or being written at most; past it ingest waits (backpressure), never drops. */
          queueBatches: z.number().int().min(1).max(1_000_000).default(10_000),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Alert rule evaluation, notification channels and escalation policies (docs/alerts.md). */
  alerts: alertsConfigSchema,
  /** Access control of the management API (docs/access-control.md). */
  auth: z
    .strictObject({
      /** Off only for tests and trusted single-user set-ups: every request acts as `api` with every permission. */
      enabled: z.boolean().default(true),
      /** A browser session ends after this many seconds without a request. */
      sessionIdleS: z
        .number()
        .int()
        .min(60)
        .max(86_400 * 30)
        .default(1800),
      /** A browser session ends this many seconds after login, whatever the activity. */
      sessionMaxS: z
        .number()
        .int()
        .min(60)
        .max(86_400 * 365)
        .default(43_200),
      /** The longest lifetime an API token may be given, in seconds (default 90 days). */
      tokenMaxLifetimeS: z
        .number()
        .int()
        .min(60)
        .max(86_400 * 3650)
        .default(90 * 86_400),
      /** Serve /metrics without credentials (Prometheus scraping); false: a token with system:read. */
      metricsPublic: z.boolean().default(true),
    })
    .prefault({})
    .refine((auth) => auth.sessionIdleS <= auth.sessionMaxS, {
      message: 'auth.sessionIdleS must not exceed auth.sessionMaxS',
      path: ['sessionIdleS'],
    }),
  log: z.strictObject({ level: logLevel.default('info') }).prefault({}),
  /** Anomaly detection: peer outliers, offline clusters, error-rate changes (docs/anomaly-detection.md). */
  anomaly: anomalyConfigSchema.prefault({}),
  /** Simulated devices started inside the server process (npm start's demo fleet). */
  demoDevices: z.number().int().min(0).max(100_000).default(0),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ServerConfigInput = z.input<typeof serverConfigSchema>;
export type TelemetryConfig = ServerConfig['telemetry'];
