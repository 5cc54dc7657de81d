/** Prometheus metrics of remote jobs: executions entering each state, by operation. */
import { Counter, type Registry } from 'prom-client';
import type { TransitionListener } from './execution-events.ts';

/** A transition listener counting into `flotilla_job_executions_total{operation,state}`. */
export function createJobMetrics(registry: Registry): TransitionListener {
  const executions = new Counter({
    name: 'flotilla_job_executions_total',
    help: 'Job executions that entered a state, by operation and state',
    labelNames: ['operation', 'state'],
    registers: [registry],
  });
  return (operation, state) => executions.inc({ operation, state });
}
