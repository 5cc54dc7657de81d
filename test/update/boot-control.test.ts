// Boot control backends, one contract suite run against each. No real bootloader exists here:
// the U-Boot and GRUB backends run against a fake command runner that emulates the env store of
// fw_printenv/fw_setenv and grub-editenv and the bootloader's power-on decision — the one test
// double these tests allow. grub-editenv is not installed on this machine (package grub-common),
// so the real-tool test is skipped when `which grub-editenv` finds nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BootControl, Slot } from '../../src/agent/update/boot-control.ts';
import { bootedSlotFromCmdline, parseEnvList } from '../../src/agent/update/boot-env-vars.ts';
import {
  bootloaderDecide,
  createFileBootControl,
  encodeFileBootEnv,
  parseFileBootEnv,
} from '../../src/agent/update/boot-file-env.ts';
import { createGrubBootControl } from '../../src/agent/update/boot-grub.ts';
import { createUbootBootControl } from '../../src/agent/update/boot-uboot.ts';
import { execCommandRunner, type CommandRunner } from '../../src/agent/update/command-runner.ts';
import { nodeDisk } from '../../src/agent/update/disk.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'flotilla-boot-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('bootloaderDecide', () => {
  it('boots a trial with tries left and uses one try', () => {
    assert.deepEqual(bootloaderDecide({ primary: 'a', booted: 'a', trial: { slot: 'b', triesLeft: 1 } }), {
      primary: 'a',
      booted: 'b',
      trial: { slot: 'b', triesLeft: 0 },
    });
  });
  it('falls back to the primary when the trial has no tries left, keeping the record', () => {
    assert.deepEqual(bootloaderDecide({ primary: 'a', booted: 'b', trial: { slot: 'b', triesLeft: 0 } }), {
      primary: 'a',
      booted: 'a',
      trial: { slot: 'b', triesLeft: 0 },
    });
  });
  it('boots the primary without a trial', () => {
    assert.deepEqual(bootloaderDecide({ primary: 'b', booted: 'a' }), { primary: 'b', booted: 'b' });
  });
});

/** A backend plus a way to power the simulated machine on. */
interface Rig {
  control: BootControl;
  powerOn(): Promise<void>;
}

/** The U-Boot env store and the bootcount logic (CONFIG_BOOTCOUNT_ENV, bootlimit, altbootcmd). */
async function fakeUboot(): Promise<Rig> {
  const scriptPath = join(await mkdtemp(join(base, 'uboot-')), 'fw_setenv.script');
  const env = new Map([['flotilla_primary', 'a']]);
  let booted: Slot = 'a';
  const runner: CommandRunner = {
    run: (file, args) => {
      if (file === 'fw_printenv')
        return Promise.resolve({
          code: 0,
          stdout: [...env].map(([k, v]) => `${k}=${v}\n`).join(''),
          stderr: '',
        });
      assert.equal(file, 'fw_setenv');
      assert.deepEqual(args, ['-s', scriptPath]);
      for (const line of readFileSync(scriptPath, 'utf8').split('\n').filter(Boolean)) {
        const [name = '', ...value] = line.split(' ');
        if (value.length === 0) env.delete(name);
        else env.set(name, value.join(' '));
      }
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
    },
  };
  return {
    control: createUbootBootControl({
      runner,
      disk: nodeDisk,
      scriptPath,
      bootedSlot: () => Promise.resolve(booted),
    }),
    powerOn: () => {
      let alt = false;
      if (env.get('upgrade_available') === '1') {
        const count = Number(env.get('bootcount') ?? 0) + 1;
        env.set('bootcount', String(count));
        alt = count > Number(env.get('bootlimit') ?? 1);
      }
      const trial = env.get('flotilla_trial');
      booted = (!alt && trial ? trial : env.get('flotilla_primary')) as Slot;
      return Promise.resolve();
    },
  };
}

/** The GRUB env block and the grub.cfg logic documented in docs/update-client.md. */
function fakeGrub(): Rig {
  const env = new Map([['flotilla_primary', 'a']]);
  let booted: Slot = 'a';
  const runner: CommandRunner = {
    run: (file, args) => {
      assert.equal(file, 'grub-editenv');
      const [, command, ...vars] = args;
      if (command === 'list')
        return Promise.resolve({
          code: 0,
          stdout: [...env].map(([k, v]) => `${k}=${v}\n`).join(''),
          stderr: '',
        });
      assert.equal(command, 'set');
      for (const pair of vars) {
        const at = pair.indexOf('=');
        env.set(pair.slice(0, at), pair.slice(at + 1));
      }
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
    },
  };
  return {
    control: createGrubBootControl({
      runner,
      envFile: '/boot/grub/grubenv',
      bootedSlot: () => Promise.resolve(booted),
    }),
    powerOn: () => {
      const trial = env.get('flotilla_trial') ?? '';
      if (trial !== '' && env.get('flotilla_tries') === '1') {
        env.set('flotilla_tries', '0');
        booted = trial as Slot;
      } else booted = env.get('flotilla_primary') as Slot;
      return Promise.resolve();
    },
  };
}

async function fileRig(): Promise<Rig> {
  const path = join(await mkdtemp(join(base, 'env-')), 'bootenv.json');
  return {
    control: createFileBootControl(nodeDisk, path),
    powerOn: async () => {
      const env = (await nodeDisk.readFile(path)) ?? encodeFileBootEnv({ primary: 'a', booted: 'a' });
      await nodeDisk.replaceFile(path, encodeFileBootEnv(bootloaderDecide(parseFileBootEnv(env))));
    },
  };
}

const backends: [string, () => Rig | Promise<Rig>][] = [
  ['file env', fileRig],
  ['U-Boot (fake fw_setenv)', fakeUboot],
  ['GRUB (fake grub-editenv)', fakeGrub],
];

for (const [name, make] of backends) {
  describe(`boot control contract: ${name}`, () => {
    it('boots a marked slot exactly once, then commits it', async () => {
      const rig = await make();
      const { control } = rig;
      const powerOn = () => rig.powerOn();
      assert.deepEqual(await control.state(), { booted: 'a', primary: 'a' });
      await control.markTrial('b');
      assert.deepEqual((await control.state()).trial, { slot: 'b', triesLeft: 1 });
      await powerOn();
      assert.deepEqual(await control.state(), {
        booted: 'b',
        primary: 'a',
        trial: { slot: 'b', triesLeft: 0 },
      });
      await control.commit();
      assert.deepEqual(await control.state(), { booted: 'b', primary: 'b' });
      await powerOn();
      assert.deepEqual(await control.state(), { booted: 'b', primary: 'b' });
    });

    it('falls back to the primary when the trial is not committed, and revert clears the record', async () => {
      const rig = await make();
      const { control } = rig;
      const powerOn = () => rig.powerOn();
      await control.markTrial('b');
      await powerOn();
      await powerOn();
      assert.deepEqual(await control.state(), {
        booted: 'a',
        primary: 'a',
        trial: { slot: 'b', triesLeft: 0 },
      });
      await control.revert();
      assert.deepEqual(await control.state(), { booted: 'a', primary: 'a' });
      await powerOn();
      assert.equal((await control.state()).booted, 'a');
    });

    it('revert during the trial boot makes the next power-on boot the primary', async () => {
      const rig = await make();
      const { control } = rig;
      const powerOn = () => rig.powerOn();
      await control.markTrial('b');
      await powerOn();
      await control.revert();
      await powerOn();
      assert.deepEqual(await control.state(), { booted: 'a', primary: 'a' });
    });
  });
}

describe('boot env helpers', () => {
  it('parses name=value lists and the booted slot from the kernel command line', () => {
    assert.deepEqual(
      [...parseEnvList('a=1\nb=x=y\n\n')],
      [
        ['a', '1'],
        ['b', 'x=y'],
      ],
    );
    assert.equal(bootedSlotFromCmdline('console=ttyS0 root=/dev/mmcblk0p3 flotilla.slot=b quiet'), 'b');
    assert.throws(() => bootedSlotFromCmdline('root=/dev/sda1'));
  });
});

const grubEditenv = (() => {
  try {
    return execFileSync('which', ['grub-editenv'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();

describe(
  'GRUB backend with the real grub-editenv',
  { skip: grubEditenv === '' && 'grub-editenv not installed' },
  () => {
    it('marks, commits and reverts in a real env block', async () => {
      const envFile = join(await mkdtemp(join(base, 'grub-')), 'grubenv');
      execFileSync(grubEditenv, [envFile, 'create']);
      execFileSync(grubEditenv, [envFile, 'set', 'flotilla_primary=a']);
      let booted: Slot = 'a';
      const control = createGrubBootControl({
        runner: execCommandRunner,
        envFile,
        bootedSlot: () => Promise.resolve(booted),
      });
      await control.markTrial('b');
      assert.deepEqual((await control.state()).trial, { slot: 'b', triesLeft: 1 });
      booted = 'b';
      await control.commit();
      assert.deepEqual(await control.state(), { booted: 'b', primary: 'b' });
    });
  },
);
