/** Devices whose declared config schema refuses a change, each with the key and the reason. */
import type { z } from 'zod';
import type { deviceConflictSchema } from '../../../device-config/config-api.ts';
import { href } from '../router.tsx';

type Conflict = z.infer<typeof deviceConflictSchema>;

export function ConfigConflicts(props: { conflicts: Conflict[]; total: number | undefined }) {
  if (props.conflicts.length === 0) return null;
  const devices = props.total ?? new Set(props.conflicts.map((c) => c.deviceId)).size;
  return (
    <div class="config-conflicts" data-testid="config-conflicts">
      <strong>
        {devices} {devices === 1 ? 'device refuses' : 'devices refuse'} this change
      </strong>{' '}
      (their schema does not accept it; they are left unchanged
      {props.conflicts.length >= 100 ? '; the first 100 are listed' : ''}):
      <ul class="conflicts">
        {props.conflicts.map((c) => (
          <li key={`${c.deviceId}|${c.key}`}>
            <a href={href(`/devices/${encodeURIComponent(c.deviceId)}`)}>{c.deviceId}</a>:{' '}
            <code>{c.key}</code> — {c.reason}
          </li>
        ))}
      </ul>
    </div>
  );
}
