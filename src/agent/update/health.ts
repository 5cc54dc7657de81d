/**
 * Health checks after booting a trial slot. A round passes when every check passes; the update
 * is committed after the first passing round and rolled back after `rounds` failing ones.
 */
import type { CommandRunner } from './command-runner.ts';

export interface HealthCheck {
  /** Shown in the failure detail. */
  name: string;
  run(): Promise<boolean>;
}

/** The agent process (or a workload it supervises) is up. */
export function processUpCheck(isUp: () => boolean | Promise<boolean>, name = 'agent-up'): HealthCheck {
  return { name, run: async () => await isUp() };
}

/** The agent reaches the server within `withinMs` (e.g. MQTT CONNACK). */
export function connectedCheck(
  waitConnected: (timeoutMs: number) => Promise<boolean>,
  withinMs: number,
  name = 'connected',
): HealthCheck {
  return { name, run: () => waitConnected(withinMs) };
}

/** A custom command that must exit 0. */
export function commandCheck(runner: CommandRunner, file: string, args: readonly string[] = []): HealthCheck {
  return {
    name: `command ${file}`,
    run: async () => {
      try {
        return (await runner.run(file, args)).code === 0;
      } catch {
        return false;
      }
    },
  };
}

export interface HealthResult {
  healthy: boolean;
  /** Names of the checks that failed in the last round. */
  failed: string[];
}

export async function runHealthRounds(
  checks: readonly HealthCheck[],
  rounds: number,
  sleep: () => Promise<void>,
): Promise<HealthResult> {
  let failed: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    if (round > 1) await sleep();
    failed = [];
    for (const check of checks) {
      const ok = await check.run().catch(() => false);
      if (!ok) failed.push(check.name);
    }
    if (failed.length === 0) return { healthy: true, failed };
  }
  return { healthy: false, failed };
}
