/** `flotilla agent`: the device agent as a long-running process, configured by a file. */
import { Option, type Command } from 'commander';
import { ProvisioningRefusedError } from '../agent/provisioning-errors.ts';
import { systemTimers } from '../infra/timers.ts';
import { systemClock } from '../infra/clock.ts';
import { LOG_LEVELS, createLogger, type LogLevel } from '../infra/logger.ts';

/**
 * Exit status when the server refused provisioning for good (sysexits.h EX_CONFIG): a service
 * manager should not restart the agent (systemd: RestartPreventExitStatus=78).
 */
export const EXIT_PROVISIONING_REFUSED = 78;

const EXAMPLE = `
Config file (YAML, or JSON when the name ends in .json; paths relative to the file).

A device with a certificate from the factory:
  deviceId: sensor-0042            # must equal the certificate's CN
  serverUrl: mqtts://fleet.example.com:8883
  caFile: ca.pem                   # CA chain that signed the server certificate
  certFile: sensor-0042.pem
  keyFile: sensor-0042.key
  serial: SNM-2419-00000042
  hardware: { model: sensor-mini, revision: B }
  firmwareVersion: 3.0.2
  heartbeatIntervalS: 60           # optional, default 60
  region: eu-west                  # optional
  tags: { site: amsterdam }        # optional
  stateDir: /var/lib/flotilla      # optional: renew the certificate and keep it here

A device that provisions itself on first boot (zero-touch) with its batch's claim credential:
  stateDir: /var/lib/flotilla      # device.key, device.pem, ca-chain.pem, server.json
  provisioning:
    serial: SNM-2419-00000042      # becomes the device id
    url: mqtts://fleet.example.com:8883   # or https://fleet.example.com:8443
    claimCertFile: claim.pem
    claimKeyFile: claim.key
    caChainFile: ca-chain.pem
  hardware: { model: sensor-mini, revision: B }
  firmwareVersion: 3.0.2
  renewal: { atFraction: 0.667, checkIntervalS: 3600 }   # optional, these are the defaults

Example:
  flotilla agent --config /etc/flotilla/agent.yaml

Stops cleanly (MQTT DISCONNECT) on SIGINT or SIGTERM. Exits with status ${EXIT_PROVISIONING_REFUSED} when the
server refuses provisioning for good (unknown serial, already provisioned, ...): retrying would not help.`;

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description(
      'Run the device agent: provision on first boot, connect over MQTT/TLS with a client certificate, report state, send heartbeats, reconnect with backoff, renew the certificate',
    )
    .requiredOption('-c, --config <file>', 'agent config file, YAML or JSON')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addHelpText('after', EXAMPLE)
    .action(async (flags: { config: string; logLevel: LogLevel }) => {
      const logger = createLogger(flags.logLevel);
      // Loaded when the agent runs: every other command starts without the agent's dependencies.
      const { runAgentDaemon } = await import('../agent/daemon.ts');
      try {
        await runAgentDaemon(flags.config, {
          clock: systemClock,
          timers: systemTimers,
          random: Math.random,
          logger,
        });
      } catch (error) {
        if (!(error instanceof ProvisioningRefusedError)) throw error;
        process.stderr.write(`flotilla: ${error.message}\n`);
        process.exitCode = EXIT_PROVISIONING_REFUSED;
      }
    });
}
