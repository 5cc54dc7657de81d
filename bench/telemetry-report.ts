/** The telemetry section of docs/benchmarks.md (bench/telemetry.ts measures it). */
import type { BytesPerDay } from './telemetry-bytes.ts';
import type { TelemetryBench } from './telemetry.ts';
import { batchBytes, POINTS_PER_BATCH } from './telemetry-ingest.ts';

export const TELEMETRY_SECTION_HEADING = '## Telemetry';

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const TARGETS: Record<string, string> = {
  flotilla: 'Flotilla, `telemetry` topic: validated, stored (SQLite), acked, then PUBACK',
  'flotilla-postgres':
    'Flotilla, `telemetry` topic: validated, stored (PostgreSQL, day partitions), acked, then PUBACK',
  'flotilla-unstored': 'Flotilla, a device topic nothing stores (`fl/d/{id}/bench`: refused with a notice)',
  mosquitto: 'Mosquitto 2, `telemetry` topic, no subscriber (baseline)',
};

const kib = (bytes: number) => fmt(bytes / 1024, 1);

function bytesRow(label: string, b: BytesPerDay): string {
  return `| ${label} | ${fmt(b.messages)} | ${kib(b.payloadBytes)} | ${kib(b.upstreamBytes)} | ${kib(b.downstreamBytes)} | ${kib(b.upstreamBytes + b.downstreamBytes)} |`;
}

/** Markdown section for docs/benchmarks.md. */
export function renderTelemetrySection(bench: TelemetryBench): string {
  const { options: o, bytes, queries: qs } = bench;
  const ingestRows = bench.ingest.map(
    (r) =>
      `| ${TARGETS[r.target] ?? r.target} | ${fmt(r.messagesPerS)} | ${fmt(r.pointsPerS)} | ${fmt(r.messages)} | ${r.storedBatches === undefined ? '—' : `${fmt(r.storedBatches)} batches, ${fmt(r.storedWindowRows ?? 0)} window rows`} | ${fmt(r.brokerCpuMsPer1000)} |`,
  );
  const saved =
    1 -
    (bytes.aggregated.upstreamBytes + bytes.aggregated.downstreamBytes) /
      (bytes.raw.upstreamBytes + bytes.raw.downstreamBytes);
  const queryRows = qs.flatMap((q) =>
    q.latencies.map(
      (l) =>
        `| ${q.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${l.query} | ${fmt(l.requests)} | ${fmt(l.p50Ms, 1)} | ${fmt(l.p95Ms, 1)} | ${fmt(l.result)} |`,
    ),
  );
  const q = qs[0];
  if (!q) throw new Error('no query results');
  const seeded = qs.map((x) => `${x.store} ${fmt(x.seedMs / 1000, 1)} s`).join(', ');
  return `${TELEMETRY_SECTION_HEADING}

Measured on ${bench.date.toISOString()} (\`npm run bench -- --only telemetry\` rewrites only this section; load
average ${fmt(bench.loadAverage, 1)} at the end of the run${bench.loadAverage >= 2 ? ': other work shared the 2 cores, so treat the rates as lower bounds' : ''}).

**Sustained ingest.** ${fmt(o.devices)} device clients (their own certificates, mTLS, MQTT 3.1.1, one process) publish
telemetry batches QoS 1 for ${fmt(o.durationS)} s, each client keeping ${o.inFlight} batches awaiting their PUBACK
(the agent's default in flight). A batch is what the agent sends: one 5-minute health window and one 1-minute
application window, ${POINTS_PER_BATCH} data points (window × metric), ${fmt(batchBytes(bench.date.getTime()))} bytes of JSON. Flotilla sends the PUBACK
only once the batch is stored (group commit, rollups and latest values in the same transaction), so every
acknowledged batch is stored end to end; the rows are counted after the run. Baselines in the same run: the same
clients and payloads to the same Flotilla broker on a topic nothing stores, and to Mosquitto (with
\`--telemetry-postgres-url\`, the stored run again with Flotilla on PostgreSQL). Broker CPU is the
server process's user + system time. Every client runs in this one Node process, sharing the 2 cores with the broker: the
baselines are bounded by the client side (which is why the unstored Flotilla topic can come out ahead of
Mosquitto); the stored rate is bounded by the store (compare the CPU per message).

| target | messages/s | data points/s | messages acked | stored after the run | broker CPU ms / 1,000 messages |
| --- | ---: | ---: | ---: | --- | ---: |
${ingestRows.join('\n')}

**Bytes per device per day** (\`bench/telemetry-bytes.ts\`): one simulated device for 24 h on the default
cadences, encoded as sent. Aggregated: the agent's collector (health sampled every 60 s into 5-minute windows of
min/max/avg/count/last, two application readings every 30 s and one application counter rolled up per minute,
batches every 30 s) and the server's \`telemetry/ack\` for each. Raw: every sample its own message (one per health
tick with all 11 health metrics, one per application reading pair, one per counter period), as \`{"seq","atMs","values"}\`.
Framing per message, an estimate: MQTT 3.1.1 PUBLISH QoS 1 (fixed header, topic \`fl/d/<id>/telemetry\`, packet
id), the 4-byte PUBACK, and 22 bytes of TLS 1.3 record (header, content type, AEAD tag) around each; TCP/IP
headers, TLS handshakes and MQTT keepalives are left out (the same for both).

| | messages/day | JSON payload (KiB) | device → server framed (KiB) | server → device framed (KiB) | total (KiB) |
| --- | ---: | ---: | ---: | ---: | ---: |
${bytesRow('aggregated (default agent)', bytes.aggregated)}
${bytesRow('every sample raw', bytes.raw)}

Aggregation saves ${fmt(saved * 100, 0)} % of the bytes on the wire here; most of it is fewer messages (framing and
acks). The windows carry five numbers per metric, so a metric sampled only twice per window (the 30 s application
readings) costs about as much aggregated as raw; the saving grows with the samples per window (health: 5).

**Query latency** over ${fmt(q.devices)} registered devices with latest values of 4 metrics each
(${fmt(q.latestRows)} \`telemetry_latest\` rows) and 24 h of 5-minute windows for ${fmt(q.devicesWithHistory)} of them
(${fmt(q.windowRows)} raw window rows, rollups written by the store); seeded in ${seeded} (bench
set-up, not measured). \`flotilla server\` in its own process (PostgreSQL: the same server on a scratch schema, \`--telemetry-postgres-url\`); each request timed from this process over
HTTP on localhost, one at a time.

| store | query | requests | p50 (ms) | p95 (ms) | answer size |
| --- | --- | ---: | ---: | ---: | ---: |
${queryRows.join('\n')}

${qs.length === 1 ? 'Left out: PostgreSQL (run with `--telemetry-postgres-url` to add it).\n' : ''}`;
}
