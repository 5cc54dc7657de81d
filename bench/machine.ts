/** What the numbers were measured on. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  mosquitto: string;
}

export function machineInfo(): MachineInfo {
  let mosquitto = 'not installed';
  try {
    mosquitto =
      execFileSync('/usr/sbin/mosquitto', ['-h'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).split('\n')[0] ?? '';
  } catch (err) {
    // mosquitto -h exits 3 after printing its version line.
    const out = (err as { stdout?: string }).stdout ?? '';
    mosquitto = out.split('\n')[0] ?? mosquitto;
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    mosquitto: mosquitto.trim(),
  };
}
