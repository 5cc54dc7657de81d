/**
 * One release in the firmware table: image (size, sha256 with copy), signature, anti-rollback
 * floor, deltas (from-version → size, share of the full image) and its operations: build deltas
 * (`firmware:write`) and roll out (`rollouts:write`).
 */
import type { z } from 'zod';
import { useState } from 'preact/hooks';
import type { releaseSchema } from '../../../api/routes/firmware.ts';
import { post } from '../api.ts';
import { href } from '../router.tsx';
import { Can } from '../session.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { formatAgo, formatBytes, formatPct, formatTime } from '../ui/format.ts';
import { Badge } from '../ui/layout.tsx';
import { stageProgress, type Rollout } from './rollout-format.ts';

export type Release = z.infer<typeof releaseSchema>;
type Delta = Release['deltas'][number];

/** Deltas are built in the background: look again after this long. */
const DELTA_RECHECK_MS = 3000;

function Sha256(props: { sha256: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () =>
    navigator.clipboard.writeText(props.sha256).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return (
    <span class="sha">
      <code title={props.sha256}>{props.sha256.slice(0, 12)}…</code>{' '}
      <button
        type="button"
        class="link-button small"
        title="Copy the full sha256"
        onClick={() => void copy()}
      >
        {copied ? 'copied' : 'copy'}
      </button>
    </span>
  );
}

function DeltaLine(props: { delta: Delta; fullBytes: number }) {
  const { delta } = props;
  if (delta.status !== 'ready' || delta.patchSize === null)
    return (
      <li title={delta.reason ?? undefined}>
        {delta.baseVersion} →{' '}
        <Badge value={delta.status} kind={delta.status === 'failed' ? 'failed' : 'muted'} />
        {delta.reason !== null ? <span class="muted small"> {delta.reason}</span> : null}
      </li>
    );
  const share = props.fullBytes > 0 ? (delta.patchSize / props.fullBytes) * 100 : null;
  return (
    <li title={`patch sha256 ${delta.patchSha256 ?? ''}, built ${formatTime(delta.createdAt)}`}>
      from {delta.baseVersion}: {formatBytes(delta.patchSize)}{' '}
      <span class="muted">({formatPct(share, share !== null && share < 10 ? 1 : 0)} of the full image)</span>
    </li>
  );
}

/** The release's latest rollout: its status and stage, linked. */
function RolloutLink(props: { rollout: Rollout }) {
  const { rollout } = props;
  return (
    <a href={href(`/rollouts/${encodeURIComponent(rollout.id)}`)} class="small" title="Its latest rollout">
      <Badge value={rollout.state.status} /> stage {stageProgress(rollout)}
    </a>
  );
}

export function ReleaseRow(props: { release: Release; rollout: Rollout | undefined; onChanged: () => void }) {
  const { release } = props;
  const confirm = useConfirm();
  const [queued, setQueued] = useState<string[] | undefined>(undefined);
  const build = useAction(async () => {
    const answer = await post<{ queued: string[] }>(
      `/api/v1/firmware/releases/${encodeURIComponent(release.hardwareModel)}/${encodeURIComponent(release.version)}/deltas`,
      {},
    );
    setQueued(answer.queued);
    props.onChanged();
    setTimeout(props.onChanged, DELTA_RECHECK_MS);
  });
  const onBuild = async () => {
    const ok = await confirm.ask({
      title: `Build delta patches for ${release.id}?`,
      body: (
        <p>
          Patches from every older {release.hardwareModel} release devices still run are (re)built in the
          background. Devices on those versions then download a patch instead of the full image.
        </p>
      ),
      confirmLabel: 'Build deltas',
    });
    if (ok) await build.run();
  };

  return (
    <tr data-release-id={release.id}>
      <td>
        <strong>{release.version}</strong>{' '}
        {release.security ? <Badge value="security" kind="critical" /> : null}{' '}
        {release.mandatory ? <Badge value="mandatory" kind="warning" /> : null}
        {release.notes !== '' ? <div class="muted small">{release.notes}</div> : null}
        {release.hardwareRevisions.length > 0 ? (
          <div class="muted small">revisions {release.hardwareRevisions.join(', ')}</div>
        ) : null}
      </td>
      <td>
        {formatBytes(release.size)}
        <div>
          <Sha256 sha256={release.sha256} />
        </div>
      </td>
      <td>
        {release.minisig ? (
          <span title="A minisign (Ed25519) signature of the image is stored; devices verify it before installing, and the image is listed in the signed TUF targets metadata.">
            <Badge value="minisign ✓" kind="valid" />
          </span>
        ) : (
          <Badge value="not signed" kind="failed" />
        )}
      </td>
      <td>
        {release.minVersion !== null ? (
          <span title="Devices refuse to run any version below this one after installing it">
            floor {release.minVersion}
          </span>
        ) : (
          <span class="muted">none</span>
        )}
      </td>
      <td title={formatTime(release.createdAt)}>
        {formatAgo(release.createdAt)}
        <div class="muted small">by {release.createdBy}</div>
      </td>
      <td>
        {release.deltas.length === 0 ? (
          <span class="muted">none (full image only)</span>
        ) : (
          <ul class="deltas">
            {release.deltas.map((d) => (
              <DeltaLine key={d.baseVersion} delta={d} fullBytes={release.size} />
            ))}
          </ul>
        )}
        {queued !== undefined ? (
          <div class="muted small">
            {queued.length === 0
              ? 'Nothing to build: no device of this model runs an older published release.'
              : `Building from ${queued.join(', ')}…`}
          </div>
        ) : null}
        <ErrorBox error={build.error} title="Deltas not queued" />
      </td>
      <td>
        {confirm.dialog}
        <div class="release-actions">
          {props.rollout !== undefined ? <RolloutLink rollout={props.rollout} /> : null}
          <Can permission="rollouts:write">
            <a
              class="button"
              href={href('/rollouts/new', { model: release.hardwareModel, version: release.version })}
              data-testid="release-rollout"
            >
              Roll out
            </a>
          </Can>
          <Can permission="firmware:write">
            <button
              type="button"
              data-testid="release-build-deltas"
              disabled={build.busy}
              onClick={() => void onBuild()}
            >
              Build deltas
            </button>
          </Can>
        </div>
      </td>
    </tr>
  );
}
