/**
 * Configuration (`#/config`): the layers under every device's own document — the fleet defaults,
 * then each group's (by priority) — and changing keys on the devices a query selects. One device's
 * desired vs reported document is on its device page.
 */
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { groupListSchema } from '../../../api/routes/groups.ts';
import { get } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { href } from '../router.tsx';
import { Can, useSession } from '../session.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { Card, PageHeader } from '../ui/layout.tsx';
import { BulkConfigCard } from './config-bulk.tsx';
import { DefaultsEditor, type ConfigDefaults } from './config-defaults.tsx';

type Groups = z.infer<typeof groupListSchema>;

export function ConfigPage(_props: PageProps) {
  const session = useSession();
  const defaults = useAsync(
    () => get<{ defaults: ConfigDefaults | null; groups: ConfigDefaults[] }>('/api/v1/config/defaults'),
    [],
  );
  const groups = useAsync(() => get<Groups>('/api/v1/groups'), []);
  const [adding, setAdding] = useState('');
  const reload = () => {
    defaults.reload();
    setAdding('');
  };
  const withDefaults = new Set(defaults.data?.groups.map((g) => g.name));
  const without = (groups.data?.items ?? []).filter((g) => !withDefaults.has(g.name));

  return (
    <>
      <PageHeader
        title="Configuration"
        subtitle="What devices are configured with: fleet defaults < group defaults < each device's own values. A device's effective configuration is on its page."
      />
      <ErrorBox error={defaults.error} title="Could not load the defaults" />
      {defaults.data === undefined ? (
        defaults.error === undefined ? (
          <Loading what="the defaults" />
        ) : null
      ) : (
        <div class="grid">
          <Card title="Fleet defaults" testid="card-fleet-defaults">
            <DefaultsEditor name="fleet" scope="fleet" doc={defaults.data.defaults} onChanged={reload} />
          </Card>
          <Card title="Group defaults" testid="card-group-defaults">
            <p class="muted">
              Defaults for the devices of a saved group (a named fleet query), above the fleet defaults.
            </p>
            {defaults.data.groups.length === 0 ? <p class="muted">No group has defaults yet.</p> : null}
            {defaults.data.groups.map((doc) => (
              <section key={doc.name} class="group-defaults">
                <h3>
                  <a href={href('/devices', { where: `group = "${doc.name}"` })}>{doc.name}</a>
                </h3>
                <DefaultsEditor name={doc.name} scope="group" doc={doc} onChanged={reload} />
              </section>
            ))}
            <ErrorBox error={groups.error} title="Could not load the groups" />
            <Can permission="config:write">
              {groups.data !== undefined && groups.data.items.length === 0 ? (
                <p class="muted">
                  There are no saved groups. Save a fleet query as a group on the{' '}
                  <a href="#/devices">devices page</a> to give it defaults.
                </p>
              ) : null}
              {without.length > 0 ? (
                <div class="row">
                  <label>
                    Add defaults for a group
                    <select
                      name="add-group"
                      value={adding}
                      onChange={(e) => setAdding(e.currentTarget.value)}
                    >
                      <option value="">choose a group…</option>
                      {without.map((g) => (
                        <option key={g.name} value={g.name}>
                          {g.name} ({g.query})
                        </option>
                      ))}
                    </select>
                  </label>
                </div>
              ) : null}
              {adding !== '' ? (
                <section class="group-defaults">
                  <h3>{adding}</h3>
                  <DefaultsEditor
                    key={adding}
                    name={adding}
                    scope="group"
                    doc={null}
                    onChanged={reload}
                    editing
                  />
                </section>
              ) : null}
            </Can>
          </Card>
        </div>
      )}
      {session.can('config:write') ? (
        <BulkConfigCard />
      ) : (
        <p class="muted">Changing configuration needs the config:write permission.</p>
      )}
    </>
  );
}
