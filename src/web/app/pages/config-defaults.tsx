/**
 * One defaults document (the fleet's or a group's): its keys and values, edited as a JSON object.
 * Saving sends only the difference (keys set, keys removed) with the version read, so a change
 * made meanwhile by someone else is refused (409) instead of overwritten. The answer lists the
 * devices whose schema refuses a key: they keep their value for that key.
 */
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { configDefaultsSchema, defaultsChangeResultSchema } from '../../../device-config/config-api.ts';
import { del, put } from '../api.ts';
import { Can } from '../session.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { formatNumber, formatTime } from '../ui/format.ts';
import { ConfigConflicts } from './config-conflicts.tsx';

export type ConfigDefaults = z.infer<typeof configDefaultsSchema>;
type ChangeResult = z.infer<typeof defaultsChangeResultSchema>;
type Values = ConfigDefaults['values'];

/** The edit the API wants: keys whose value changed, and keys that are gone. */
function diff(before: Values, after: Values): { set: Values; unset: string[] } {
  const set: Values = {};
  for (const [key, value] of Object.entries(after))
    if (JSON.stringify(before[key]) !== JSON.stringify(value)) set[key] = value;
  return { set, unset: Object.keys(before).filter((key) => !Object.hasOwn(after, key)) };
}

function parseValues(text: string): Values | string {
  try {
    const value: unknown = JSON.parse(text.trim() === '' ? '{}' : text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return 'the defaults are a JSON object of key → value, like {"heartbeat.intervalS": 30}';
    return value as Values;
  } catch (err) {
    return `not valid JSON: ${(err as Error).message}`;
  }
}

export function DefaultsEditor(props: {
  /** `fleet`, or the group's name. */
  name: string;
  scope: 'fleet' | 'group';
  doc: ConfigDefaults | null;
  onChanged: () => void;
  /** Open the editor at once (a group just chosen for new defaults). */
  editing?: boolean;
}) {
  const { doc, scope, name } = props;
  const path =
    scope === 'fleet' ? '/api/v1/config/defaults' : `/api/v1/config/groups/${encodeURIComponent(name)}`;
  const who = scope === 'fleet' ? 'every device' : `the devices of group ${name}`;
  const [text, setText] = useState<string | undefined>(props.editing === true ? '{}' : undefined);
  const [priority, setPriority] = useState(String(doc?.priority ?? 0));
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [result, setResult] = useState<ChangeResult | undefined>(undefined);
  const confirm = useConfirm();
  const before = doc?.values ?? {};

  const save = useAction(async () => {
    const after = parseValues(text ?? '');
    if (typeof after === 'string') return setProblem(after);
    setProblem(undefined);
    const edit = diff(before, after);
    const newPriority = Number(priority);
    const priorityChanged = scope === 'group' && newPriority !== (doc?.priority ?? 0);
    if (Object.keys(edit.set).length === 0 && edit.unset.length === 0 && !priorityChanged)
      return setText(undefined);
    const ok = await confirm.ask({
      title: `Change the ${scope === 'fleet' ? 'fleet' : `group ${name}`} defaults?`,
      body: (
        <p>
          Applies to {who} (unless a group default or the device's own value overrides it).
          {Object.keys(edit.set).length > 0 ? ` Sets ${Object.keys(edit.set).join(', ')}.` : ''}
          {edit.unset.length > 0 ? ` Removes ${edit.unset.join(', ')}.` : ''}
          {priorityChanged ? ` Priority becomes ${newPriority}.` : ''}
        </p>
      ),
      confirmLabel: 'Change defaults',
    });
    if (!ok) return undefined;
    const body: Record<string, unknown> = { ...edit };
    if (doc !== null) body['expectedVersion'] = doc.version;
    if (scope === 'group') body['priority'] = newPriority;
    setResult(await put<ChangeResult>(path, body));
    setText(undefined);
    props.onChanged();
    return undefined;
  });
  const remove = useAction(async () => {
    const ok = await confirm.ask({
      title: `Remove the ${scope === 'fleet' ? 'fleet' : `group ${name}`} defaults?`,
      body: <p>Their keys go back to what lower layers or each device's own configuration say, for {who}.</p>,
      confirmLabel: 'Remove defaults',
      danger: true,
    });
    if (!ok) return;
    setResult(await del<ChangeResult>(path));
    props.onChanged();
  });

  const entries = Object.entries(before);
  return (
    <div class="config-defaults" data-testid={`config-defaults-${scope === 'fleet' ? 'fleet' : name}`}>
      {text === undefined ? (
        <>
          {entries.length === 0 ? (
            <p class="muted">No defaults: {who} use their own configuration.</p>
          ) : (
            <table class="config-doc compact">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {entries.map(([key, value]) => (
                  <tr key={key}>
                    <td>
                      <code>{key}</code>
                    </td>
                    <td>
                      <code>{JSON.stringify(value)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {doc !== null ? (
            <p class="muted">
              Version {doc.version}
              {scope === 'group' ? ` · priority ${doc.priority}` : ''} · changed {formatTime(doc.updatedAt)}
            </p>
          ) : null}
          <Can permission="config:write">
            <div class="actions">
              <button
                type="button"
                data-testid="config-defaults-edit"
                onClick={() => setText(JSON.stringify(before, null, 2))}
              >
                {doc === null ? 'Set defaults' : 'Edit'}
              </button>
              {doc !== null ? (
                <button type="button" disabled={remove.busy} onClick={() => void remove.run()}>
                  Remove
                </button>
              ) : null}
            </div>
          </Can>
        </>
      ) : (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <label>
            Keys and values (JSON), e.g. <code>{'{"heartbeat.intervalS": 30, "log.level": "info"}'}</code>
            <textarea
              name="defaults"
              rows={Math.min(14, Math.max(4, entries.length + 3))}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </label>
          {scope === 'group' ? (
            <label>
              Priority (higher wins over other groups; equal: the later group name wins)
              <input
                name="priority"
                type="number"
                min={-1000}
                max={1000}
                value={priority}
                onInput={(e) => setPriority(e.currentTarget.value)}
              />
            </label>
          ) : null}
          {problem !== undefined ? <div class="error-box">{problem}</div> : null}
          <ErrorBox error={save.error} title="Not saved" />
          <div class="actions">
            <button type="submit" class="primary" disabled={save.busy} data-testid="config-defaults-save">
              Save
            </button>
            <button type="button" onClick={() => setText(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <ErrorBox error={remove.error} title="Not removed" />
      {result !== undefined ? (
        <div class="notice">
          Saved. It applies to {formatNumber(result.affected)} devices.
          <ConfigConflicts conflicts={result.conflicts} total={undefined} />
        </div>
      ) : null}
      {confirm.dialog}
    </div>
  );
}
