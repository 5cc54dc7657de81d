/** Renders docs/benchmarks.md. */
import type { MachineInfo } from './machine.ts';
import type { ConnectResult } from './connect.ts';
import type { SigningResult } from './signing.ts';
import type { ProvisioningResult } from './provisioning.ts';
import { renderDeltaSection, type DeltaResult } from './delta.ts';
import { renderDownloadSection, type DownloadBench } from './downloads.ts';
import { renderRolloutSection } from './rollouts-report.ts';
import type { RolloutBench } from './rollouts.ts';
import { renderTelemetrySection } from './telemetry-report.ts';
import type { TelemetryBench } from './telemetry.ts';

export interface ReportInput {
  machine: MachineInfo;
  results: ConnectResult[];
  identities: { identitiesIssued: number; identitiesReused: number; identitiesMs: number };
  signing: SigningResult;
  provisioning: ProvisioningResult;
  deltas: DeltaResult[];
  /** Absent when nginx, the baseline, is not installed. */
  downloads: DownloadBench | undefined;
  rollouts: RolloutBench;
  telemetry: TelemetryBench;
  date: Date;
}

function signingSection(s: SigningResult): string {
  return `## Certificate signing

${fmt(s.csrs)} CSRs (ECDSA P-256), signed one after another with the issuing CA's key into device certificates with
the same extensions (CA:false, digitalSignature, clientAuth, SKI/AKI):

| signer | certificates/s |
| --- | ---: |
| Flotilla (\`parseDeviceCsr\` + \`issueDeviceCertFromCsr\`: parse, verify the CSR signature, sign, encode; WebCrypto) | ${fmt(s.flotillaPerS)} |
| \`openssl x509 -req\`, one process per CSR (how a shell-scripted CA signs) | ${fmt(s.opensslPerS)} |
| \`openssl speed ecdsap256\`: raw ECDSA P-256 signatures, no certificate work (the primitive's ceiling) | ${fmt(s.opensslRawSignPerS)} |
`;
}

function provisioningSection(p: ProvisioningResult): string {
  return `## Zero-touch provisioning

${fmt(p.devices)} devices of one factory batch provision themselves against \`flotilla server\` (its own process),
at most ${p.concurrency} at a time, each end to end: generate a P-256 key, build a CSR, open a claim session (TLS with
the batch's claim certificate), publish the request, receive the certificate, reconnect with the device's own
certificate and report its state. Every provisioning is one SQLite transaction (device, serial, claim use,
certificate, audit entry).

| devices | concurrency | provisionings/s | total (s) | refused |
| ---: | ---: | ---: | ---: | ---: |
| ${fmt(p.devices)} | ${p.concurrency} | ${fmt(p.perS, 1)} | ${fmt(p.totalMs / 1000, 1)} | ${p.refused} |

There is no external baseline for the whole flow; its parts are measured above (signing, mTLS connects).
`;
}

const MiB = 1024 * 1024;

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function renderReport(input: ReportInput): string {
  const { machine, results } = input;
  const rows = results.map(
    (r) =>
      `| ${r.target} | ${fmt(r.devices)} | ${fmt(r.connectsPerS)} | ${fmt(r.rampMs / 1000, 1)} | ${fmt(r.idleRssBytes / MiB, 1)} | ${fmt(r.loadedRssBytes / MiB, 1)} | ${fmt(r.bytesPerDevice / 1024, 1)} | ${fmt(r.brokerCpuMsPerConnect, 2)} | ${fmt(r.simulatorCpuMsPerConnect, 2)} | ${r.failedFirstAttempt} |`,
  );
  const ratios = [...new Set(results.map((r) => r.devices))].map((devices) => {
    const f = results.find((r) => r.devices === devices && r.target === 'flotilla');
    const m = results.find((r) => r.devices === devices && r.target === 'mosquitto');
    if (!f || !m) return '';
    return `- ${fmt(devices)} devices: Flotilla connects at ${fmt((100 * f.connectsPerS) / m.connectsPerS)}% of Mosquitto's rate, spends ${fmt(f.brokerCpuMsPerConnect / m.brokerCpuMsPerConnect, 1)}× its CPU per connect and uses ${fmt(f.bytesPerDevice / m.bytesPerDevice, 1)}× its memory per device.`;
  });
  return `# Benchmarks

Written by \`npm run bench\` on ${input.date.toISOString()}. Numbers from one run on the machine below;
each Flotilla figure is compared with a baseline measured in the same run.

## Machine

| | |
| --- | --- |
| CPU | ${machine.cpu} × ${machine.cores} |
| memory | ${machine.memoryGiB} GiB |
| kernel | ${machine.kernel} |
| Node.js | ${machine.node} |
| baseline broker | ${machine.mosquitto} |

## Device connections over mTLS

What is measured: the simulator (one process, \`src/sim\`) opens N MQTT connections over TLS, each with its
own ECDSA P-256 client certificate from the fleet CA, at most 100 handshakes in flight. Each device
subscribes to its \`rejected\` topic and publishes its state report (QoS 1) after CONNACK. The broker runs
in its own process; memory is its resident set size (VmRSS) idle and after all N are connected and settled
for 3 s, divided by N.

- **flotilla**: \`flotilla server\` (embedded aedes broker, TLS client-certificate auth, topic ACL, payload
  validation, SQLite registry: every connect creates the device record, marks it online and applies its
  state report). Counted as settled when the API shows N devices online.
- **mosquitto** (baseline): Mosquitto with the same CA, server certificate, \`require_certificate\`,
  \`use_identity_as_username\` and the ACL \`pattern readwrite fl/d/%u/#\`; it stores nothing.

The simulator and the broker share the machine's ${machine.cores} cores, and the simulator is one Node.js process
doing the client half of every handshake, so the connect rate is bounded by whichever side is slower — compare
the CPU columns: when the simulator spends more CPU per connect than the broker, the rate measures the simulator.
CPU per connect (user + system time over the ramp, divided by N) is the figure that compares the brokers.

| target | devices | connects/s | ramp (s) | idle RSS (MiB) | loaded RSS (MiB) | KiB per device | broker CPU ms per connect | simulator CPU ms per connect | failed first attempts |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${ratios.filter(Boolean).join('\n')}

Device identities: ${fmt(input.identities.identitiesIssued)} issued (ECDSA P-256 key pair and certificate each) and
${fmt(input.identities.identitiesReused)} reused from the cache of an earlier run, in ${fmt(input.identities.identitiesMs / 1000, 1)} s${
    input.identities.identitiesIssued > 0
      ? ` — ${fmt(input.identities.identitiesIssued / (input.identities.identitiesMs / 1000))} issued per second`
      : ''
  }.

${signingSection(input.signing)}
${provisioningSection(input.provisioning)}
${renderDeltaSection(input.deltas)}${input.downloads ? `\n${renderDownloadSection(input.downloads)}` : ''}
${renderRolloutSection(input.rollouts)}
${renderTelemetrySection(input.telemetry)}`;
}

/**
 * `markdown` with the section under `heading` (up to the next level-2 heading) replaced by
 * `section`, or with `section` appended when there is none.
 */
export function replaceSection(markdown: string, heading: string, section: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return `${markdown.trimEnd()}\n\n${section}`;
  const next = markdown.indexOf('\n## ', start + heading.length + 1);
  const rest = next < 0 ? '' : `\n${markdown.slice(next + 1)}`;
  return `${markdown.slice(0, start + 1)}${section}${rest}`;
}
