/**
 * Operations on one device: reboot and self-test, each a job for this device alone (POST
 * /api/v1/jobs), asked for with a confirmation; the created job is linked.
 */
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { createdSchema } from '../../../api/routes/jobs.ts';
import { post } from '../api.ts';
import { Can } from '../session.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';

type Created = z.infer<typeof createdSchema>;

const operations = [
  {
    operation: 'reboot',
    label: 'Reboot',
    testid: 'device-reboot',
    explain: 'The device restarts; it is offline for a moment and reconnects by itself.',
  },
  {
    operation: 'self-test',
    label: 'Run self-test',
    testid: 'device-self-test',
    explain: 'The device checks its hardware and reports the result in the job.',
  },
] as const;

export function DeviceActions(props: { deviceId: string; onStarted: () => void }) {
  const confirm = useConfirm();
  const [created, setCreated] = useState<{ id: string; label: string } | undefined>(undefined);
  const action = useAction(async (operation: string, label: string) => {
    const answer = await post<Created>('/api/v1/jobs', {
      operation,
      target: { deviceIds: [props.deviceId] },
      description: `${label} from the dashboard`,
    });
    if (!answer.dryRun) setCreated({ id: answer.job.id, label });
    props.onStarted();
  });
  const start = async (op: (typeof operations)[number]) => {
    const ok = await confirm.ask({
      title: `${op.label} ${props.deviceId}?`,
      body: (
        <p>
          {op.explain} This creates a job for this one device; an offline device runs it when it reconnects.
        </p>
      ),
      confirmLabel: op.label,
    });
    if (ok) await action.run(op.operation, op.label);
  };
  return (
    <Can permission="jobs:write">
      <div class="device-actions">
        {operations.map((op) => (
          <button
            key={op.operation}
            type="button"
            data-testid={op.testid}
            disabled={action.busy}
            onClick={() => void start(op)}
          >
            {op.label}
          </button>
        ))}
      </div>
      {created !== undefined ? (
        <p class="notice" data-testid="job-created">
          {created.label} started as job{' '}
          <a href={`#/jobs/${encodeURIComponent(created.id)}`} class="mono">
            {created.id}
          </a>
          .
        </p>
      ) : null}
      <ErrorBox error={action.error} title="The job was refused:" />
      {confirm.dialog}
    </Can>
  );
}
