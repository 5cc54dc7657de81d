/** The remote-jobs section of docs/benchmarks.md (bench/jobs.ts measures it). */
import type { JobsBench } from './jobs.ts';

export const JOBS_SECTION_HEADING = '## Remote jobs';

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const TARGETS: Record<string, string> = {
  flotilla:
    'Flotilla: `POST /api/v1/jobs`, driver sends `jobs/notify`, results stored (SQLite), until the job is finished',
  mosquitto:
    'Mosquitto 2: one client publishes the same notifies and collects the results (no store, baseline)',
};

/** Markdown section for docs/benchmarks.md. */
export function renderJobsSection(bench: JobsBench): string {
  const rows = bench.runs.map(
    (r) =>
      `| ${TARGETS[r.target] ?? r.target} | ${fmt(r.devices)} | ${fmt(r.totalMs / 1000, 2)} | ${fmt(r.executionsPerS)} | ${fmt(r.p50Ms)} | ${fmt(r.p95Ms)} | ${fmt(r.maxMs)} | ${fmt(r.succeeded)} | ${fmt(r.brokerCpuMs)} |`,
  );
  return `${JOBS_SECTION_HEADING}

Measured on ${bench.date.toISOString()} (\`npm run bench -- --only jobs\` rewrites only this section, \`--json FILE\`
writes the raw results; load average ${fmt(bench.loadAverage, 1)} at the end of the run${bench.loadAverage >= 2 ? ': other work shared the cores, so treat the rates as lower bounds' : ''}).

**Fan-out of one job to every connected device.** ${fmt(bench.options.devices)} simulated devices (each the real agent with
the job runner, its own certificate, mTLS, MQTT 3.1.1, all in one Node process; connecting them took
${fmt(bench.connectMs / 1000, 1)} s, not counted) receive one \`${bench.options.operation}\` job. Total time runs from the create request
until every execution's result is stored (the job is finished; polled every 50 ms), per-device latency from the
moment the server sent the execution to the moment it stored the result. The baseline, in the same run, connects the
same devices to Mosquitto and has one client on a plain listener publish the same ${fmt(bench.options.devices)} \`jobs/notify\`
messages (QoS 1) and collect the results: the device side and the broker alone, without the job store, driver or
rate limit. Broker CPU is the server process's user + system time during the fan-out.

| target | devices | total s | executions/s | p50 ms | p95 ms | max ms | succeeded | broker CPU ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}
`;
}
