/** `flotilla server`: runs the server until SIGINT/SIGTERM, then stops it gracefully. */
import type { Command } from 'commander';
import { loadServerConfig } from '../config/load.ts';
import { createLogger } from '../infra/logger.ts';
import type { RunningServer } from '../server.ts';
import { join, resolve } from 'node:path';
import { INITIAL_PASSWORD_FILE } from '../access/bootstrap.ts';

interface ServerFlags {
  config?: string;
  dataDir?: string;
  httpHost?: string;
  httpPort?: string;
  mqttHost?: string;
  mqttPort?: string;
  deviceHttpPort?: string;
  store?: string;
  postgresUrl?: string;
  logLevel?: string;
  demoDevices?: string;
}

/** Flags → the config's shape; numbers are checked by the config schema, which names the field. */
function flagsToConfig(flags: ServerFlags): Record<string, unknown> {
  const num = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v);
  return {
    dataDir: flags.dataDir,
    http: { host: flags.httpHost, port: num(flags.httpPort) },
    mqtt: { host: flags.mqttHost, port: num(flags.mqttPort) },
    deviceHttp: { port: num(flags.deviceHttpPort) },
    store: { kind: flags.store, postgresUrl: flags.postgresUrl },
    log: { level: flags.logLevel },
    demoDevices: num(flags.demoDevices),
  };
}

/** How to log in, next to the dashboard URL (docs/access-control.md, "Bootstrap"). */
function loginLine(server: RunningServer): string {
  if (!server.config.auth.enabled) return '  login              none (auth.enabled is false)\n';
  const file = join(resolve(server.config.dataDir), INITIAL_PASSWORD_FILE);
  return server.initialAdmin !== undefined
    ? `  login              admin / ${server.initialAdmin.password}  (also in ${file}; change it after logging in)\n`
    : `  login              an existing user (the first admin's password was written to ${file})\n`;
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description(
      'Run the Flotilla server: MQTT gateway (TLS, client certificates), management API and dashboard',
    )
    .option('-c, --config <file>', 'config file, YAML or JSON (env FLOTILLA_CONFIG)')
    .option(
      '--data-dir <dir>',
      'where the embedded default keeps its files (env FLOTILLA_DATA_DIR; default .data)',
    )
    .option('--http-host <host>', 'management API address (env FLOTILLA_HTTP_HOST; default 127.0.0.1)')
    .option('--http-port <port>', 'management API port (env FLOTILLA_HTTP_PORT; default 8080)')
    .option('--mqtt-host <host>', 'MQTT/TLS listen address (env FLOTILLA_MQTT_HOST; default 0.0.0.0)')
    .option('--mqtt-port <port>', 'MQTT/TLS port (env FLOTILLA_MQTT_PORT; default 8883)')
    .option(
      '--device-http-port <port>',
      'device HTTPS API port: provisioning, renewal (env FLOTILLA_DEVICE_HTTP_PORT; default 8443)',
    )
    .option('--store <kind>', 'sqlite or postgres (env FLOTILLA_STORE; default sqlite)')
    .option('--postgres-url <url>', 'PostgreSQL connection URL (env FLOTILLA_POSTGRES_URL)')
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent (env FLOTILLA_LOG_LEVEL)',
    )
    .option(
      '--demo-devices <n>',
      'also run N simulated devices in this process (env FLOTILLA_DEMO_DEVICES; default 0)',
    )
    .addHelpText(
      'after',
      '\nPrecedence: config file < environment < flags.\nExample:\n  flotilla server --data-dir /var/lib/flotilla --http-port 8080 --demo-devices 50',
    )
    .action(async (flags: ServerFlags) => {
      const config = loadServerConfig({ file: flags.config, env: process.env, flags: flagsToConfig(flags) });
      const logger = createLogger(config.log.level);
      // Loaded here, not at the top: every other `flotilla` command starts without the whole server.
      const { startServer } = await import('../server.ts');
      const server = await startServer(config, {
        logger,
        ...(process.env['FLOTILLA_ADMIN_PASSWORD']
          ? { adminPassword: process.env['FLOTILLA_ADMIN_PASSWORD'] }
          : {}),
      });
      const demoModule = config.demoDevices > 0 ? await import('./demo-fleet.ts') : undefined;
      const demo = await demoModule?.startDemoFleet(server, config.demoDevices, logger);

      process.stdout.write(
        `\nFlotilla is running\n  dashboard and API  ${server.httpUrl}/\n${loginLine(server)}  OpenAPI            ${server.httpUrl}/openapi.json\n  metrics            ${server.httpUrl}/metrics\n  MQTT (TLS, mTLS)   ${server.mqttUrl}\n  device HTTPS       ${server.deviceHttpUrl}\n  fleet CA chain     ${server.pki.paths.chain}\n${demoModule?.demoFleetBanner(config.demoDevices, server.httpUrl) ?? ''}Press Ctrl+C to stop.\n\n`,
      );

      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting without waiting');
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, 'stopping');
        void (async () => {
          await demo?.stop();
          await server.stop();
          logger.info('stopped');
          process.exit(0);
        })();
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
    });
}
