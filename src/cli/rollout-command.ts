/** `flotilla rollout create|list|show|pause|resume|approve|cancel`: staged rollouts from the shell. */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import { createdSchema, dryRunSchema, rolloutSchema, rolloutViewSchema } from '../api/routes/rollouts.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';

interface CommonFlags {
  server: string;
  json: boolean;
}

interface CreateFlags extends CommonFlags {
  spec?: string;
  model?: string;
  version?: string;
  stages?: string;
  holdS?: string;
  device: string[];
  region: string[];
  firmware: string[];
  where?: string;
  dryRun: boolean;
  mandatory: boolean;
  maxPerMinute?: string;
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `1,10,50,100` → cumulative percent stages, each with `holdS` when given. */
function stagesOf(list: string, holdS: number | undefined): Array<{ percent: number; holdS?: number }> {
  return list.split(',').map((part) => {
    const percent = Number(part.trim());
    if (!Number.isFinite(percent))
      throw new InvalidArgumentError(`--stages: ${JSON.stringify(part)} is not a number`);
    return holdS === undefined ? { percent } : { percent, holdS };
  });
}

/** The spec: from --spec FILE (JSON), or built from the flags. The server validates it. */
async function specOf(flags: CreateFlags): Promise<unknown> {
  if (flags.spec !== undefined) {
    try {
      return JSON.parse(await readFile(flags.spec, 'utf8')) as unknown;
    } catch (err) {
      throw new InvalidArgumentError(`--spec ${flags.spec}: ${(err as Error).message}`);
    }
  }
  if (flags.model === undefined || flags.version === undefined) {
    throw new InvalidArgumentError('give --model and --version (or --spec FILE)');
  }
  const holdS = flags.holdS === undefined ? undefined : Number(flags.holdS);
  const selector = {
    ...(flags.device.length > 0 ? { deviceIds: flags.device } : {}),
    ...(flags.region.length > 0 ? { regions: flags.region } : {}),
    ...(flags.firmware.length > 0 ? { firmwareVersions: flags.firmware } : {}),
    ...(flags.where !== undefined ? { where: flags.where } : {}),
  };
  return {
    release: { model: flags.model, version: flags.version },
    selector,
    ...(flags.stages !== undefined ? { stages: stagesOf(flags.stages, holdS) } : {}),
    ...(flags.stages === undefined && holdS !== undefined
      ? { stages: [1, 10, 50, 100].map((percent) => ({ percent, holdS })) }
      : {}),
    ...(flags.mandatory ? { mandatory: true } : {}),
    ...(flags.maxPerMinute !== undefined ? { maxStartsPerMinute: Number(flags.maxPerMinute) } : {}),
  };
}

export function registerRolloutCommand(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('Staged rollouts: a release to a selection of devices, stage by stage, behind hold gates');

  rollout
    .command('create')
    .description('Plan and start a rollout (devices are assigned to stages by a stable hash)')
    .option('--spec <file>', 'the rollout spec as JSON (docs/rollouts.md); other flags are then ignored')
    .option('--model <model>', 'hardware model of the release')
    .option('--version <semver>', 'release version')
    .option('--stages <percents>', 'cumulative stage sizes in percent, e.g. 1,10,50,100 (the default)')
    .option('--hold-s <seconds>', 'hold after each stage once its gates pass (default 86400)')
    .option('--device <id>', 'only these devices (repeat)', collect, [])
    .option('--region <region>', 'only devices in these regions (repeat)', collect, [])
    .option('--firmware <version>', 'only devices running these versions (repeat)', collect, [])
    .option(
      '--where <query>',
      'only devices this fleet query matches, e.g. \'region = "eu-west" and battery > 30\' (docs/fleet-query.md)',
    )
    .option(
      '--dry-run',
      'show how many devices (and which) it would update and the stage sizes; start nothing',
      false,
    )
    .option('--mandatory', 'safety-critical: skip the hold times, keep the failure gates', false)
    .option('--max-per-minute <n>', 'at most this many devices started per minute')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print the result as JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla rollout create --model tracker-2 --version 2.5.0\n  flotilla rollout create --model tracker-2 --version 2.5.0 --stages 5,25,100 --hold-s 3600 --region eu-west\n' +
        "  flotilla rollout create --model tracker-2 --version 2.5.0 --where 'firmware < 2.4.0 and battery > 30' --dry-run\n" +
        '  flotilla rollout create --spec rollout.json',
    )
    .action(async (flags: CreateFlags) => {
      if (flags.dryRun) {
        const plan = await new ApiClient(flags.server).post(
          '/api/v1/rollouts/dry-run',
          dryRunSchema,
          await specOf(flags),
        );
        if (flags.json) return printJson(plan);
        process.stdout.write(
          `dry run: ${plan.devices} of ${plan.matched} matched device(s) would be updated, stages of ${plan.stageSizes.join(' / ')}` +
            `${plan.excluded.length > 0 ? `, ${plan.excluded.length} excluded` : ''}\n`,
        );
        for (const id of plan.sample) process.stdout.write(`  ${id}\n`);
        if (plan.devices > plan.sample.length)
          process.stdout.write(`  … and ${plan.devices - plan.sample.length} more\n`);
        return;
      }
      const created = await new ApiClient(flags.server).post(
        '/api/v1/rollouts',
        createdSchema,
        await specOf(flags),
      );
      if (flags.json) return printJson(created);
      const { rollout: r, stageSizes, excluded } = created;
      process.stdout.write(
        `rollout ${r.id}: ${r.spec.release.model}@${r.spec.release.version}, stages of ${stageSizes.join(' / ')} device(s)` +
          `${excluded.length > 0 ? `, ${excluded.length} excluded` : ''}\n`,
      );
      for (const e of excluded) process.stdout.write(`  excluded ${e.deviceId}: ${e.reason}\n`);
    });

  rollout
    .command('list')
    .description('Rollouts, newest first')
    .option('--limit <n>', 'how many', '100')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (flags: CommonFlags & { limit: string }) => {
      const page = await new ApiClient(flags.server).get(
        '/api/v1/rollouts',
        z.object({ items: z.array(rolloutSchema) }),
        [['limit', flags.limit]],
      );
      if (flags.json) return printJson(page);
      printTable(
        ['ROLLOUT', 'RELEASE', 'STATUS', 'STAGE', 'CREATED'],
        page.items.map((r) => [
          r.id,
          `${r.spec.release.model}@${r.spec.release.version}`,
          r.state.status,
          `${r.state.stageIndex + 1}/${r.spec.stages.length}`,
          new Date(r.createdAtMs).toISOString(),
        ]),
      );
    });

  rollout
    .command('show')
    .description(
      'One rollout: stage, devices per state, gate values against thresholds, pause reason, timeline',
    )
    .argument('<id>', 'rollout id')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags) => {
      const view = await new ApiClient(flags.server).get(
        `/api/v1/rollouts/${encodeURIComponent(id)}`,
        rolloutViewSchema,
      );
      if (flags.json) return printJson(view);
      const { rollout: r } = view;
      const devices = Object.entries(view.devices)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ');
      process.stdout.write(
        `${r.id}  ${r.spec.release.model}@${r.spec.release.version}  ${r.state.status}  stage ${r.state.stageIndex + 1}/${r.spec.stages.length}\n` +
          `${r.state.pauseReason ? `paused: ${r.state.pauseReason.message}\n` : ''}devices: ${devices}\n\n`,
      );
      printTable(
        ['STAGE', 'DEVICES', 'SUCCESS', 'FAILED', 'STUCK', 'GATES'],
        view.stages.map((s) => [
          `${s.stageIndex + 1}${s.current ? ' *' : ''}`,
          String(s.devices),
          String(s.summary.success),
          String(s.summary.failed),
          String(s.summary.stuck),
          s.gates
            .map(
              (g) =>
                `${g.gate}${g.metric ? `:${g.metric}` : ''} ${g.status} (${g.value ?? '-'} vs ${g.threshold})`,
            )
            .join('; '),
        ]),
      );
      process.stdout.write('\n');
      for (const event of view.timeline) {
        process.stdout.write(`${new Date(event.atMs).toISOString()}  ${event.actor}  ${event.message}\n`);
      }
    });

  for (const action of ['pause', 'resume', 'approve', 'cancel'] as const) {
    rollout
      .command(action)
      .description(
        {
          pause: 'Stop starting new devices (devices already updating finish or roll back)',
          resume: 'Continue a paused rollout (its gates are checked again at once)',
          approve: 'Let a stage configured for manual approval advance',
          cancel: 'End the rollout; offers not yet acted on are withdrawn',
        }[action],
      )
      .argument('<id>', 'rollout id')
      .option('--note <text>', 'why (kept in the timeline and the audit log)')
      .option(...serverOption, defaultServerUrl(process.env))
      .option('--json', 'print JSON for scripts', false)
      .action(async (id: string, flags: CommonFlags & { note?: string }) => {
        const r = await new ApiClient(flags.server).post(
          `/api/v1/rollouts/${encodeURIComponent(id)}/${action}`,
          rolloutSchema,
          flags.note !== undefined ? { note: flags.note } : {},
        );
        if (flags.json) return printJson(r);
        process.stdout.write(
          `${r.id}: ${r.state.status}, stage ${r.state.stageIndex + 1}/${r.spec.stages.length}\n`,
        );
      });
  }
}
