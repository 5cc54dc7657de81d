/** Number, money and duration formatting for the plan document: fixed, locale-free, deterministic. */

/** 1234567.8 → `1,234,568`; below 10 one decimal, below 1 up to three significant digits. */
export function fmtNumber(value: number): string {
  if (!Number.isFinite(value)) return '∞';
  const abs = Math.abs(value);
  if (abs !== 0 && abs < 1) return String(Number(value.toPrecision(3)));
  if (abs < 10) return String(Math.round(value * 10) / 10);
  return groupThousands(Math.round(value));
}

function groupThousands(value: number): string {
  const sign = value < 0 ? '-' : '';
  return sign + String(Math.abs(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** USD: `$1,234`, `$12.35`, `$0.0123`. */
export function fmtMoney(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return `$${groupThousands(Math.round(value))}`;
  if (abs >= 0.1) return `$${value.toFixed(2)}`;
  if (abs === 0) return '$0';
  return `$${Number(value.toPrecision(3))}`;
}

/** Bytes as B, KiB, MiB or GiB with one decimal. */
export function fmtBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Seconds as `45 s`, `12 min`, `3.5 h`, `2 d`. */
export function fmtDuration(seconds: number): string {
  if (seconds < 60) return `${fmtNumber(seconds)} s`;
  if (seconds < 3600) return `${fmtNumber(seconds / 60)} min`;
  if (seconds < 86_400) return `${fmtNumber(seconds / 3600)} h`;
  return `${fmtNumber(seconds / 86_400)} d`;
}

/** Devices: 1000 → `1K`, 1000000 → `1M`. */
export function fmtFleetSize(devices: number): string {
  if (devices >= 1_000_000 && devices % 1_000_000 === 0) return `${devices / 1_000_000}M`;
  if (devices >= 1000 && devices % 1000 === 0) return `${devices / 1000}K`;
  return fmtNumber(devices);
}
