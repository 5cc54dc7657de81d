/** A one-line progress bar on stderr for long work; plain lines every 25% when stderr is not a terminal. */

/** `[#######.........]  412/1000 unit`. Pure. */
export function renderProgress(done: number, total: number, unit: string, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const bar = '#'.repeat(filled) + '.'.repeat(Math.max(0, width - filled));
  return `[${bar}] ${String(done).padStart(String(total).length)}/${total} ${unit}`;
}

export interface ProgressBar {
  update(done: number): void;
  /** Draws the final state and ends the line; later updates are ignored. */
  finish(done: number): void;
}

export function createProgressBar(
  total: number,
  unit: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressBar {
  const tty = stream.isTTY;
  let lastDrawMs = 0;
  let lastQuarter = -1;
  let finished = false;
  const draw = (done: number, force: boolean) => {
    if (tty) {
      const now = Date.now();
      // Redrawing on every step would cost more than the steps themselves at 10k devices.
      if (!force && now - lastDrawMs < 100) return;
      lastDrawMs = now;
      stream.write(`\r${renderProgress(done, total, unit)}`);
      return;
    }
    const quarter = total === 0 ? 4 : Math.floor((4 * done) / total);
    if (force || quarter > lastQuarter) {
      lastQuarter = quarter;
      stream.write(`${renderProgress(done, total, unit)}\n`);
    }
  };
  return {
    update(done) {
      if (!finished) draw(done, false);
    },
    finish(done) {
      if (finished) return;
      draw(done, true);
      finished = true;
      if (tty) stream.write('\n');
    },
  };
}
