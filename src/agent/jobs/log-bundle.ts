/**
 * The `logs` operation's bundle: log lines, gzip-compressed, at most `maxBytes` compressed. When
 * everything does not fit, the oldest lines are dropped (a binary search over how many to keep),
 * and a first line says how many were left out.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface LogBundle {
  gzip: Buffer;
  /** Lines in the bundle (without the note about dropped lines). */
  lines: number;
  droppedLines: number;
}

export async function buildLogBundle(lines: readonly string[], maxBytes: number): Promise<LogBundle> {
  const pack = (keep: number) => {
    const dropped = lines.length - keep;
    const head = dropped > 0 ? [`# ${dropped} older lines dropped to fit ${maxBytes} bytes`] : [];
    return gzipAsync(Buffer.from([...head, ...lines.slice(dropped)].join('\n') + '\n'));
  };
  const all = await pack(lines.length);
  if (all.length <= maxBytes) return { gzip: all, lines: lines.length, droppedLines: 0 };
  // The most lines whose bundle fits (gzip size grows with the lines kept); 0 always fits.
  let low = 0;
  let high = lines.length - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if ((await pack(mid)).length <= maxBytes) low = mid;
    else high = mid - 1;
  }
  return { gzip: await pack(low), lines: low, droppedLines: lines.length - low };
}
