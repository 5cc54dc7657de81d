/**
 * Firmware (`#/firmware`): published releases grouped by hardware model, newest version first,
 * with their signature, anti-rollback floor and delta patches; a release can be rolled out from
 * here. One request: the release answer carries its deltas.
 */
import type { PageProps } from '../app.tsx';
import { get } from '../api.ts';
import { useSession } from '../session.tsx';
import { href } from '../router.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { formatNumber } from '../ui/format.ts';
import { Card, PageHeader } from '../ui/layout.tsx';
import { ReleaseRow, type Release } from './firmware-release-row.tsx';
import type { Rollout } from './rollout-format.ts';

/** Rollouts looked at for each release's latest (the list is newest first). */
const ROLLOUTS_LOOKED_AT = 200;

/** Releases by model name; each model's list keeps the API's order (newest version first). */
function groupByModel(releases: readonly Release[]): Array<[model: string, releases: Release[]]> {
  const groups = new Map<string, Release[]>();
  for (const r of releases) groups.set(r.hardwareModel, [...(groups.get(r.hardwareModel) ?? []), r]);
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

/** The newest rollout of each release (`model@version`), from one list request. */
async function latestRollouts(allowed: boolean): Promise<Map<string, Rollout>> {
  if (!allowed) return new Map();
  const { items } = await get<{ items: Rollout[] }>('/api/v1/rollouts', { limit: ROLLOUTS_LOOKED_AT });
  const latest = new Map<string, Rollout>();
  // Newest first: the first seen per release is its latest.
  for (const r of items) {
    const key = `${r.spec.release.model}@${r.spec.release.version}`;
    if (!latest.has(key)) latest.set(key, r);
  }
  return latest;
}

export function FirmwarePage(props: PageProps) {
  const session = useSession();
  const model = props.query.get('model') ?? undefined;
  const releases = useAsync(() => get<{ items: Release[] }>('/api/v1/firmware/releases', { model }), [model]);
  const rollouts = useAsync(() => latestRollouts(session.can('rollouts:read')), []);
  const groups = groupByModel(releases.data?.items ?? []);
  return (
    <>
      <PageHeader
        title="Firmware"
        subtitle="Published releases per hardware model. Devices verify each image's signature before installing; a delta patch spares them the full download."
      >
        {model !== undefined ? <a href={href('/firmware')}>All models</a> : null}
      </PageHeader>
      <ErrorBox error={releases.error} title="Could not load the releases" />
      <ErrorBox error={rollouts.error} title="Could not load the rollouts" />
      {releases.data === undefined ? (
        releases.error === undefined ? (
          <Loading what="releases" />
        ) : null
      ) : groups.length === 0 ? (
        <EmptyState />
      ) : (
        groups.map(([name, items]) => (
          <Card
            key={name}
            title={
              <>
                {name}{' '}
                <span class="muted">
                  · {formatNumber(items.length)} {items.length === 1 ? 'release' : 'releases'}
                </span>
              </>
            }
            class="firmware-model"
          >
            <table class="firmware-table" data-testid="release-table" data-model={name}>
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Image</th>
                  <th>Signature</th>
                  <th>Anti-rollback</th>
                  <th>Published</th>
                  <th>Delta patches</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <ReleaseRow
                    key={r.id}
                    release={r}
                    rollout={rollouts.data?.get(r.id)}
                    onChanged={() => releases.reload()}
                  />
                ))}
              </tbody>
            </table>
          </Card>
        ))
      )}
    </>
  );
}

function EmptyState() {
  return (
    <Card>
      <p>
        <strong>No release is published yet.</strong> A release is an image for one hardware model with its
        version; the server stores it, signs it and builds delta patches from older releases.
      </p>
      <p class="muted">Publish one from a terminal (it uploads the image, then publishes it):</p>
      <pre class="mono">
        flotilla firmware publish build/tracker-2.4.1.img --version 2.4.1 --model tracker-2
      </pre>
      <p class="muted">
        <code>flotilla firmware publish --help</code> lists the options (hardware revisions, security release
        with an anti-rollback floor, your own minisign signature). Each release listed here then has a{' '}
        <em>Roll out</em> link.
      </p>
    </Card>
  );
}
