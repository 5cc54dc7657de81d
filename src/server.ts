/**
 * The composition root: builds every part from the config, starts them in order and stops them
 * in reverse (devices disconnected, pending writes flushed, store closed last).
 */
import { mkdir } from 'node:fs/promises';
import { createWebAssets } from './web/web-assets.ts';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerConfig } from './config/schema.ts';
import { systemClock, type Clock } from './infra/clock.ts';
import { systemTimers, type Timers } from './infra/timers.ts';
import { ensureFleetPki, type FleetPki } from './pki/fleet-pki.ts';
import { openStores, type StoreOptions, type Stores } from './store/open-store.ts';
import type { DeviceStore } from './store/types.ts';
import { PresenceBatcher } from './registry/presence-batcher.ts';
import { createRegistryEventHandlers } from './registry/device-events.ts';
import { createFleetMetrics } from './registry/fleet-metrics.ts';
import { createEmbeddedBroker } from './gateway/mqtt/embedded-broker.ts';
import { createGatewayMetrics } from './gateway/metrics.ts';
import { createDeviceHttpServer } from './gateway/http/device-http-server.ts';
import { createProvisioningService } from './provisioning/provisioning-service.ts';
import { createFactoryService } from './provisioning/factory-service.ts';
import {
  RevocationList,
  createCredentialChecks,
  createRevocationService,
} from './provisioning/revocation.ts';
import { createHttpServer } from './api/http-server.ts';
import { deviceRoutes } from './api/routes/devices.ts';
import { groupRoutes } from './api/routes/groups.ts';
import { GroupService } from './groups/group-service.ts';
import { createGroupOperations } from './groups/group-operations.ts';
import { systemRoutes } from './api/routes/system.ts';
import { provisioningRoutes } from './api/routes/provisioning.ts';
import { firmwareRoutes } from './api/routes/firmware.ts';
import { updateMetadataRoutes } from './api/routes/update-metadata.ts';
import { openArtifactStore } from './ota/artifacts/artifact-store.ts';
import { createReleaseService } from './ota/releases/release-service.ts';
import { loadOrCreateUrlKey } from './ota/delivery/signed-urls.ts';
import { createDeploymentService } from './ota/deployments/deployment-service.ts';
import { deploymentRoutes } from './api/routes/deployments.ts';
import { rolloutRoutes } from './api/routes/rollouts.ts';
import { alertRoutes } from './api/routes/alerts.ts';
import { createAlertMetrics } from './alerts/alert-metrics.ts';
import { createAlertService } from './alerts/alert-service.ts';
import { buildChannels } from './alerts/channels/build-channels.ts';
import { createEscalationEngine } from './alerts/escalation/escalation-engine.ts';
import { alertNotificationRoutes } from './api/routes/alert-notifications.ts';
import { startAnomalyDetection } from './anomaly/index.ts';
import { startRolloutDriver } from './ota/rollouts/rollout-driver.ts';
import { createRolloutService } from './ota/rollouts/rollout-service.ts';
import { telemetryReader } from './ota/rollouts/telemetry-reader.ts';
import { UnavailableError } from './infra/errors.ts';
import type { DeviceGateway } from './gateway/types.ts';
import { createDeltaBuilder } from './ota/delta/delta-builder.ts';
import { openUpdateRepository } from './ota/metadata/update-repository.ts';
import { startMetadataRefresher } from './ota/metadata/metadata-refresher.ts';
import { loadOrCreateMinisignKey } from './ota/metadata/server-keys.ts';
import { parsePublicKey } from './signing/minisign.ts';
import { FLOTILLA_VERSION } from './version.ts';
import { createTelemetryPipeline } from './telemetry/telemetry-pipeline.ts';
import { telemetryRoutes } from './api/routes/telemetry.ts';
import { alertRuleRoutes } from './api/routes/alert-rules.ts';
import { fleetMetricsRoutes } from './api/routes/fleet-metrics.ts';
import { createAlertRuleService } from './alerts/rules/alert-rule-service.ts';
import { createRuleCycle } from './alerts/rules/rule-cycle.ts';
import { startRuleDriver } from './alerts/rules/rule-driver.ts';
import { startFleetGauges } from './fleet-metrics/fleet-metrics-gauges.ts';
import { createFleetMetricsService } from './fleet-metrics/fleet-metrics-service.ts';
import { telemetryArchiveRoutes } from './api/routes/telemetry-archives.ts';
import { planRoutes } from './api/routes/plan.ts';
import { shippedBenchmarks } from './plan/plan-files.ts';
import { createAccessControl } from './access/index.ts';
import { bootstrapAdmin, type BootstrapResult } from './access/bootstrap.ts';
import { internalToken } from './access/internal-token.ts';
import type { Role } from './access/permissions.ts';
import { createDeviceScope } from './api/device-scope.ts';
import { authRoutes } from './api/routes/auth.ts';
import { userRoutes } from './api/routes/users.ts';
import { tokenRoutes } from './api/routes/tokens.ts';
import { createTelemetryRetention } from './telemetry/retention/telemetry-retention.ts';
import { jobRoutes } from './api/routes/jobs.ts';
import { createJobDispatcher } from './jobs/job-dispatcher.ts';
import { startJobDriver } from './jobs/job-driver.ts';
import { jobLogFiles } from './jobs/job-logs.ts';
import { createJobMetrics } from './jobs/job-metrics.ts';
import { createJobService } from './jobs/job-service.ts';
import { createJobSpecCache } from './jobs/job-spec-cache.ts';
import { createJobStatusHandler } from './jobs/job-status-handler.ts';

import { deviceConfigRoutes } from './api/routes/device-config.ts';
import { dashboardRoutes } from './api/routes/dashboard.ts';
import { createLiveHub } from './dashboard/live-hub.ts';
import { createOverviewService } from './dashboard/overview-service.ts';
import { startSnapshotDriver } from './dashboard/snapshot-driver.ts';
import { createDeviceConfig } from './device-config/index.ts';

/** How often the job dispatcher moves jobs forward (schedules, timeouts, rate-limited sends). */
const JOB_TICK_INTERVAL_MS = 1000;
/** How often an open dashboard stream gets a `: keepalive` comment. */
const DASHBOARD_KEEPALIVE_MS = 15_000;

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
  /** The first admin's password (FLOTILLA_ADMIN_PASSWORD) instead of a random one. */
  adminPassword?: string;
}

export interface RunningServer {
  httpUrl: string;
  mqttUrl: string;
  /** Device HTTPS API (provisioning, renewal). */
  deviceHttpUrl: string;
  pki: FleetPki;
  store: DeviceStore;
  stores: Stores;
  config: ServerConfig;
  /** Set when this start created the first user `admin` (docs/access-control.md, "Bootstrap"). */
  initialAdmin: BootstrapResult | undefined;
  /**
   * A short-lived API token with `role` for clients in this process (the demo fleet); undefined
   * when access control is off (no credentials needed).
   */
  internalToken(name: string, role: Role): Promise<string | undefined>;
  stop(): Promise<void>;
}

function storeOptions(config: ServerConfig, dataDir: string): StoreOptions {
  if (config.store.kind === 'postgres') {
    return { kind: 'postgres', url: config.store.postgresUrl ?? '', schema: config.store.postgresSchema };
  }
  const file = config.store.sqliteFile;
  return { kind: 'sqlite', file: isAbsolute(file) ? file : join(dataDir, file) };
}

/** A URL host for a listen address: wildcard addresses are reached over loopback. */
function urlHost(host: string): string {
  const reachable = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return reachable.includes(':') ? `[${reachable}]` : reachable;
}

export async function startServer(config: ServerConfig, deps: ServerDeps): Promise<RunningServer> {
  const clock = deps.clock ?? systemClock;
  const startedAtMs = clock.now();
  const timers = deps.timers ?? systemTimers;
  const logger = deps.logger;
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const pki = await ensureFleetPki(dataDir, [config.mqtt.publicHost], clock.now());
  if (pki.rootKeyOnline) {
    logger.warn(
      { rootKey: pki.paths.rootKey },
      'the root CA key is in the data directory; for production keep it offline (see `flotilla ca --help`)',
    );
  }
  const stores = await openStores(storeOptions(config, dataDir));
  const store = stores.devices;
  const stopping: Array<() => Promise<void>> = [() => stores.close()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stopping.reverse()) await stop();
    stopping.length = 0;
  };

  try {
    // The embedded broker has just started, so no device is connected to it.
    const reset = await store.markAllOffline(clock.now());
    if (reset > 0) logger.info({ devices: reset }, 'marked devices offline after restart');

    const metricsRegistry = new Registry();
    collectDefaultMetrics({ register: metricsRegistry, prefix: 'flotilla_process_' });
    // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool lint).
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      metricsRegistry.removeSingleMetric(`flotilla_process_nodejs_${name}`);
    }

    const presence = new PresenceBatcher(
      { store, timers, logger },
      { flushIntervalMs: config.presence.flushIntervalMs },
    );
    presence.start();
    const registry = createRegistryEventHandlers({ store, presence });
    stopping.push(async () => {
      await registry.drain();
      await presence.stop();
    });

    // Stopped after both transports (pushed earlier), so every accepted batch is written.
    const telemetry = createTelemetryPipeline(
      {
        store: stores.telemetry,
        clock,
        timers,
        logger: logger.child({ component: 'telemetry' }),
        metricsRegistry,
      },
      config.telemetry,
    );
    stopping.push(() => telemetry.stop());
    // Retention job (archive to Parquet, then delete) and the tiered reads of the query API.
    const retention = createTelemetryRetention(
      {
        telemetry: stores.telemetry,
        retention: stores.telemetryRetention,
        devices: store,
        clock,
        timers,
        logger: logger.child({ component: 'telemetry-retention' }),
        metricsRegistry,
        dataDir,
      },
      config.telemetry,
    );
    stopping.push(() => retention.stop());

    const revocations = await RevocationList.load(stores.provisioning);
    const credentials = createCredentialChecks({ store: stores.provisioning, devices: store, revocations });
    let mqttUrl = '';
    const provisioning = createProvisioningService({
      store: stores.provisioning,
      pki,
      clock,
      logger: logger.child({ component: 'provisioning' }),
      settings: {
        deviceCertValidityDays: config.provisioning.deviceCertValidityDays,
        mqttUrl: () => mqttUrl,
      },
    });
    // The deployment service pushes through the gateway, which hands it the statuses.
    const started: { gateway?: DeviceGateway } = {};
    const deployments = createDeploymentService({
      store: stores.updates,
      devices: store,
      releases: stores.releases,
      audit: stores.provisioning,
      clock,
      logger: logger.child({ component: 'deployments' }),
      notify: (deviceId, notify) => {
        if (!started.gateway) throw new UnavailableError('the MQTT gateway is not running');
        return started.gateway.publishToDevice(deviceId, 'update/notify', notify, { retain: true });
      },
    });
    const updates = {
      status: (device: { deviceId: string }, status: Parameters<typeof deployments.applyStatus>[1]) =>
        deployments.applyStatus(device.deviceId, status),
      offer: (device: { deviceId: string }) => deployments.offerFor(device.deviceId),
    };
    // Remote jobs: the dispatcher publishes through the gateway and hears of connects and statuses.
    const jobLogger = logger.child({ component: 'jobs' });
    const onJobTransition = createJobMetrics(metricsRegistry);
    const jobSpecs = createJobSpecCache(stores.jobs);
    const jobDispatcher = createJobDispatcher({
      jobs: stores.jobs,
      audit: stores.provisioning,
      clock,
      logger: jobLogger,
      onTransition: onJobTransition,
      specs: jobSpecs,
      publish: (deviceId, notify) => {
        if (!started.gateway) return Promise.reject(new UnavailableError('the MQTT gateway is not running'));
        return started.gateway.publishToDevice(deviceId, 'jobs/notify', notify, { retain: false });
      },
    });
    const jobStatus = createJobStatusHandler({
      jobs: stores.jobs,
      dispatcher: jobDispatcher,
      logger: jobLogger,
      onTransition: onJobTransition,
      specs: jobSpecs,
    });
    // A device that (re)connects gets its pending executions at once, after the registry marked it online.
    const deviceEvents: typeof registry = {
      ...registry,
      connected: async (identity, atMs) => {
        await registry.connected(identity, atMs);
        await jobDispatcher
          .deliver(identity.deviceId)
          .catch((err: unknown) =>
            jobLogger.error({ err, deviceId: identity.deviceId }, 'sending pending jobs on connect failed'),
          );
      },
    };
    const groups = new GroupService({ groups: stores.groups, clock });
    // Publishes through the gateway, which hands it the devices' reports.
    const deviceConfig = createDeviceConfig({
      store: stores.deviceConfig,
      devices: store,
      groups,
      audit: stores.provisioning,
      clock,
      logger: logger.child({ component: 'device-config' }),
      publish: (deviceId, desired) => {
        if (!started.gateway) throw new UnavailableError('the MQTT gateway is not running');
        return started.gateway.publishToDevice(deviceId, 'config/desired', desired, { retain: true });
      },
    });
    stopping.push(() => deviceConfig.publisher.drain());
    const gatewayTls = { caPem: pki.chainPem, certPem: pki.server.certPem, keyPem: pki.server.keyPem };
    const gateway = await createEmbeddedBroker(
      {
        clock,
        logger: logger.child({ component: 'gateway' }),
        handlers: {
          registry: deviceEvents,
          provisioning,
          credentials,
          updates,
          telemetry: telemetry.handler,
          jobs: jobStatus,
          config: deviceConfig.handler,
        },
        metrics: createGatewayMetrics(metricsRegistry),
      },
      { host: config.mqtt.host, port: config.mqtt.port, tls: gatewayTls },
    );
    await gateway.start();
    started.gateway = gateway;
    const restored = await deployments.restoreOffers();
    if (restored > 0) logger.info({ devices: restored }, 'restored retained update offers');
    stopping.push(() => gateway.stop());
    // Started once the gateway runs, since a tick pushes offers; stopped before it.
    const alerts = createAlertService({
      store: stores.alerts,
      audit: stores.provisioning,
      clock,
      logger: logger.child({ component: 'alerts' }),
    });
    createAlertMetrics(metricsRegistry, alerts);
    let httpUrl = '';
    const escalation = createEscalationEngine(
      {
        notifications: stores.notifications,
        alerts: stores.alerts,
        channels: await buildChannels(config.alerts, {
          clock,
          logger: logger.child({ component: 'alerts' }),
        }),
        clock,
        timers,
        logger: logger.child({ component: 'escalation' }),
        metricsRegistry,
        apiUrl: () => httpUrl,
      },
      config.alerts.escalation,
    );
    escalation.start();
    stopping.push(() => escalation.stop());
    const rollouts = createRolloutService(
      {
        store: stores.rollouts,
        devices: store,
        releases: stores.releases,
        updates: stores.updates,
        deployments,
        audit: stores.provisioning,
        clock,
        logger: logger.child({ component: 'rollouts' }),
        alerts,
        telemetry: telemetryReader(stores.telemetry),
        fleetQueries: (where) => groups.parse(where),
      },
      { rescanIntervalMs: config.rollouts.rescanIntervalS * 1000 },
    );
    const rolloutDriver = startRolloutDriver(
      { service: rollouts, clock, timers, logger: logger.child({ component: 'rollouts' }) },
      { tickIntervalMs: config.rollouts.tickIntervalS * 1000 },
    );
    stopping.push(() => rolloutDriver.stop());
    const anomalies = startAnomalyDetection(
      {
        store: stores.anomaly,
        alerts,
        clock,
        timers,
        logger: logger.child({ component: 'anomaly' }),
        metricsRegistry,
      },
      config.anomaly,
    );
    if (anomalies) stopping.push(() => anomalies.stop());
    const jobDriver = startJobDriver(
      { dispatcher: jobDispatcher, timers, logger: jobLogger },
      { tickIntervalMs: JOB_TICK_INTERVAL_MS },
    );
    stopping.push(() => jobDriver.stop());
    mqttUrl = `mqtts://${config.mqtt.publicHost}:${gateway.port()}`;

    const revocation = createRevocationService({
      store: stores.provisioning,
      devices: store,
      revocations,
      pki,
      clock,
      logger,
      disconnect: (deviceId) => gateway.disconnectDevice(deviceId),
    });
    await revocation.publishCrl();
    const jobs = createJobService({
      jobs: stores.jobs,
      devices: store,
      groups,
      audit: stores.provisioning,
      dispatcher: jobDispatcher,
      logs: jobLogFiles(join(dataDir, 'job-logs')),
      clock,
      logger: jobLogger,
      onTransition: onJobTransition,
      created: () => void jobDriver.poke(),
    });
    let deviceHttpUrl = '';
    const factory = createFactoryService({
      store: stores.provisioning,
      pki,
      clock,
      logger,
      provisioning,
      endpoints: () => ({ mqttUrl, httpsUrl: deviceHttpUrl }),
    });

    const artifacts = await openArtifactStore(join(dataDir, 'artifacts'));
    const urlKey = await loadOrCreateUrlKey(join(dataDir, 'ota', 'url-signing.key'));
    const otaLogger = logger.child({ component: 'ota' });
    const repository = await openUpdateRepository(dataDir, {
      clock,
      logger: otaLogger,
      audit: stores.provisioning,
    });
    const refresher = startMetadataRefresher({
      timers,
      logger: otaLogger,
      refresh: () => repository.refreshExpiring(),
    });
    stopping.push(() => refresher.stop());
    const deltas = createDeltaBuilder({
      artifacts,
      releases: stores.releases,
      devices: store,
      repository,
      audit: stores.provisioning,
      clock,
      logger: otaLogger,
      workDir: join(dataDir, 'ota', 'delta-work'),
    });
    stopping.push(() => deltas.drain());
    const deviceHttp = createDeviceHttpServer(
      {
        clock,
        timers,
        logger,
        provisioning,
        credentials,
        updates,
        telemetry: telemetry.handler,
        jobs,
        config: deviceConfig.handler,
        downloads: {
          artifacts,
          urlKey,
          repository,
          limits: {
            maxConcurrent: config.ota.maxConcurrentDownloads,
            retryAfterS: config.ota.downloadRetryAfterS,
            maxBytesPerS: config.ota.maxDownloadBytesPerS,
            maxBytesPerSPerDownload: config.ota.maxDownloadBytesPerSPerClient,
          },
        },
      },
      { host: config.deviceHttp.host, port: config.deviceHttp.port, tls: gatewayTls },
    );
    deviceHttpUrl = `https://${config.mqtt.publicHost}:${await deviceHttp.start()}`;
    stopping.push(() => deviceHttp.stop());

    const releaseService = createReleaseService({
      artifacts,
      releases: stores.releases,
      audit: stores.provisioning,
      clock,
      logger: otaLogger,
      maxArtifactBytes: config.ota.maxArtifactBytes,
      signing: {
        serverKey: await loadOrCreateMinisignKey(join(dataDir, 'tuf', 'keys')),
        trustedKeys: config.ota.minisignPublicKeys.map((key) => parsePublicKey(key)),
      },
      repository,
      deltas,
    });
    await releaseService.reconcile();

    createFleetMetrics(metricsRegistry, store);
    const fleetMetrics = createFleetMetricsService({ store: stores.fleetMetrics, groups, clock });
    const fleetGauges = startFleetGauges(
      {
        registry: metricsRegistry,
        service: fleetMetrics,
        timers,
        logger: logger.child({ component: 'fleet-metrics' }),
      },
      {
        refreshIntervalMs: config.fleetMetrics.refreshIntervalS * 1000,
        maxGroups: config.fleetMetrics.maxGroups,
        maxVersions: 20,
      },
    );
    stopping.push(() => fleetGauges.stop());
    const alertRules = createAlertRuleService({
      store: stores.alertRules,
      groups,
      alerts,
      audit: stores.provisioning,
      clock,
      logger: logger.child({ component: 'alerts' }),
    });
    await alertRules.seedDefaults();
    const ruleDriver = startRuleDriver(
      {
        cycle: createRuleCycle({
          rules: stores.alertRules,
          metrics: stores.fleetMetrics,
          groups,
          alerts,
          clock,
          logger: logger.child({ component: 'alerts' }),
          registry: metricsRegistry,
        }),
        timers,
        logger: logger.child({ component: 'alerts' }),
      },
      { intervalMs: config.alerts.evaluationIntervalS * 1000 },
    );
    stopping.push(() => ruleDriver.stop());
    const deviceScope = createDeviceScope({ devices: store, groups, clock });
    const dashboardLogger = logger.child({ component: 'dashboard' });
    const overview = createOverviewService({
      fleetMetrics,
      metrics: stores.fleetMetrics,
      alerts: stores.alerts,
      rollouts: stores.rollouts,
      dashboard: stores.dashboard,
      clock,
    });
    const snapshots = startSnapshotDriver(
      { overview, store: stores.dashboard, clock, timers, logger: dashboardLogger },
      {
        intervalMs: config.dashboard.snapshotIntervalS * 1000,
        retentionMs: config.dashboard.snapshotRetentionDays * 86_400_000,
      },
    );
    stopping.push(() => snapshots.stop());
    const live = createLiveHub(
      {
        compute: (scope) => overview.overview(scope),
        clock,
        timers,
        logger: dashboardLogger,
        metricsRegistry,
      },
      {
        intervalMs: config.dashboard.liveIntervalS * 1000,
        keepaliveMs: DASHBOARD_KEEPALIVE_MS,
        staleMs: config.dashboard.overviewMaxAgeS * 1000,
      },
    );
    const access = createAccessControl({
      store: stores.access,
      audit: stores.provisioning,
      clock,
      limits: config.auth,
      checkScope: async (where) => {
        await groups.deviceQuery(where, undefined);
      },
    });
    const initialAdmin = config.auth.enabled
      ? await bootstrapAdmin({
          store: stores.access,
          users: access.users,
          dataDir,
          presetPassword: deps.adminPassword,
          logger,
        })
      : undefined;
    const web = createWebAssets();
    const http = createHttpServer({
      logger,
      metricsRegistry,
      web,
      version: FLOTILLA_VERSION,
      auth: config.auth.enabled
        ? { authenticator: access.authenticator, metricsPublic: config.auth.metricsPublic }
        : undefined,
      routes: [
        ...authRoutes({ sessions: access.sessions, sessionMaxS: config.auth.sessionMaxS }),
        ...userRoutes({ users: access.users }),
        ...tokenRoutes({ tokens: access.tokens }),
        ...systemRoutes({
          store,
          version: FLOTILLA_VERSION,
          gatewayConnected: () => gateway.connectedDevices(),
        }),
        ...deviceRoutes({ store, groups, clock, scope: deviceScope }),
        ...groupRoutes({
          groups,
          operations: createGroupOperations({ devices: store, groups, audit: stores.provisioning, clock }),
        }),
        ...provisioningRoutes({
          store: stores.provisioning,
          devices: store,
          factory,
          revocation,
          pki,
          clock,
          scope: deviceScope,
        }),
        ...firmwareRoutes({
          service: releaseService,
          releases: stores.releases,
          deltas,
          artifacts,
          clock,
          signing: { urlKey, baseUrl: () => deviceHttpUrl },
        }),
        ...updateMetadataRoutes({ repository }),
        ...deploymentRoutes({ service: deployments, scope: deviceScope }),
        ...rolloutRoutes({ service: rollouts }),
        ...alertRoutes({ service: alerts }),
        ...alertRuleRoutes({ rules: alertRules }),
        ...fleetMetricsRoutes({ service: fleetMetrics, scope: deviceScope }),
        ...alertNotificationRoutes({ service: alerts, escalation }),
        ...telemetryRoutes({ store: retention.queryStore, clock, scope: deviceScope }),
        ...telemetryArchiveRoutes({ catalog: stores.telemetryRetention }),
        ...planRoutes({
          live: {
            config,
            clock,
            startedAtMs,
            listRules: () => stores.alertRules.listRules(),
            listRollouts: (limit) => stores.rollouts.listRollouts(limit),
            fleetSummary: (where) => fleetMetrics.summary(where === undefined ? {} : { where }),
            modelCounts: () => stores.anomaly.factorCounts('model'),
            metrics: metricsRegistry,
          },
          clock,
          benchmarks: shippedBenchmarks,
          serverUrl: () => httpUrl,
        }),
        ...jobRoutes({ service: jobs }),
        ...deviceConfigRoutes({ service: deviceConfig.service }),
        ...dashboardRoutes({ overview, live, scope: deviceScope, clock }),
      ],
    });
    await http.listen({ host: config.http.host, port: config.http.port });
    stopping.push(() => http.close());
    if (config.dashboard.prepareAtStart) {
      web
        .prebuild()
        .catch((err: unknown) => logger.error({ err }, 'the dashboard bundle could not be built'));
      // The whole fleet's overview (an admin's first paint) stays computed; scoped ones on demand.
      const warmOverview = (): void =>
        void live
          .overview({ where: undefined })
          .catch((err: unknown) => logger.error({ err }, 'dashboard overview failed'));
      warmOverview();
      const warming = timers.setInterval(warmOverview, (config.dashboard.overviewMaxAgeS * 1000) / 2);
      stopping.push(() => Promise.resolve(timers.clearInterval(warming)));
    }
    // Runs before http.close(): open event streams would otherwise keep the server from closing.
    stopping.push(() => Promise.resolve(live.close()));
    const httpAddress = http.server.address();
    const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : config.http.port;
    httpUrl = `http://${urlHost(config.http.host)}:${httpPort}`;

    return {
      httpUrl,
      mqttUrl,
      deviceHttpUrl,
      pki,
      store,
      stores,
      config,
      initialAdmin,
      internalToken: async (name, role) =>
        config.auth.enabled
          ? internalToken({ store: stores.access, tokens: access.tokens }, { name, role, lifetimeS: 3600 })
          : undefined,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
