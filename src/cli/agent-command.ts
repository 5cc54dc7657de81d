/** `flotilla agent`: the device agent as a long-running process, configured by a file. */
import { Option, type Command } from 'commander';
import { runAgentDaemon } from '../agent/daemon.ts';
import { systemTimers } from '../infra/timers.ts';
import { systemClock } from '../infra/clock.ts';
import { LOG_LEVELS, createLogger, type LogLevel } from '../infra/logger.ts';

const EXAMPLE = `
Config file (YAML, or JSON when the name ends in .json; paths relative to the file):
  deviceId: sensor-0042            # must equal the certificate's CN
  serverUrl: mqtts://fleet.example.com:8883
  caFile: ca.pem                   # CA that signed the server certificate
  certFile: sensor-0042.pem
  keyFile: sensor-0042.key
  serial: SNM-2419-00000042
  hardware: { model: sensor-mini, revision: B }
  firmwareVersion: 3.0.2
  heartbeatIntervalS: 60           # optional, default 60
  region: eu-west                  # optional
  tags: { site: amsterdam }        # optional

Example:
  flotilla agent --config /etc/flotilla/agent.yaml

Stops cleanly (MQTT DISCONNECT) on SIGINT or SIGTERM.`;

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description(
      'Run the device agent: connect to the server over MQTT/TLS with a client certificate, report state, send heartbeats, reconnect with backoff',
    )
    .requiredOption('-c, --config <file>', 'agent config file, YAML or JSON')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addHelpText('after', EXAMPLE)
    .action(async (flags: { config: string; logLevel: LogLevel }) => {
      const logger = createLogger(flags.logLevel);
      await runAgentDaemon(flags.config, {
        clock: systemClock,
        timers: systemTimers,
        random: Math.random,
        logger,
      });
    });
}
