/**
 * The cost-per-device chart: one hand-built SVG, fleet size on a log axis, cost per device (USD a
 * month) on a log axis, one line per option. Deterministic: fixed size, coordinates rounded to one
 * decimal, no dates or random ids. Pure.
 */
import type { Plan } from './build-plan.ts';
import { fmtFleetSize, fmtMoney } from './format.ts';

const WIDTH = 640;
const HEIGHT = 360;
const PAD = { left: 70, right: 150, top: 30, bottom: 50 };

interface Series {
  label: string;
  color: string;
  values: number[];
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toFixed(1);
const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderCostChart(plan: Plan): string {
  const sizes = plan.costs.selfHosted.map((r) => r.devices);
  const series: Series[] = [
    {
      label: 'self-hosted Flotilla',
      color: '#1f77b4',
      values: plan.costs.selfHosted.map((r) => r.perDevice),
    },
    { label: 'AWS IoT Core', color: '#ff7f0e', values: plan.costs.aws.map((r) => r.perDevice) },
    { label: 'Azure IoT Hub', color: '#2ca02c', values: plan.costs.azure.map((r) => r.perDevice) },
  ];
  const all = series.flatMap((s) => s.values).filter((v) => v > 0);
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const xMin = Math.log10(sizes[0]!);
  const xMax = Math.log10(sizes.at(-1)!);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (devices: number) => PAD.left + ((Math.log10(devices) - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (usd: number) =>
    PAD.top +
    plotH -
    ((Math.log10(Math.max(usd, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) *
      plotH;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escape(`Cost per device per month against fleet size: ${plan.input.name}`)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  ];
  for (let decade = Math.log10(yMin); decade <= Math.log10(yMax); decade += 1) {
    const yy = r1(y(10 ** decade));
    out.push(`<line x1="${PAD.left}" y1="${yy}" x2="${WIDTH - PAD.right}" y2="${yy}" stroke="#dddddd"/>`);
    out.push(
      `<text x="${PAD.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escape(fmtMoney(10 ** decade))}</text>`,
    );
  }
  for (const devices of sizes) {
    const xx = r1(x(devices));
    out.push(`<line x1="${xx}" y1="${PAD.top}" x2="${xx}" y2="${PAD.top + plotH}" stroke="#eeeeee"/>`);
    out.push(
      `<text x="${xx}" y="${PAD.top + plotH + 18}" text-anchor="middle">${fmtFleetSize(devices)}</text>`,
    );
  }
  out.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">devices</text>`,
    `<text x="16" y="${PAD.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${PAD.top + plotH / 2})">USD per device per month</text>`,
  );
  series.forEach((s, index) => {
    const points = s.values.map((v, i) => `${r1(x(sizes[i]!))},${r1(y(v))}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const [i, v] of s.values.entries())
      out.push(`<circle cx="${r1(x(sizes[i]!))}" cy="${r1(y(v))}" r="3" fill="${s.color}"/>`);
    const ly = PAD.top + 10 + index * 20;
    out.push(
      `<line x1="${WIDTH - PAD.right + 12}" y1="${ly}" x2="${WIDTH - PAD.right + 32}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${WIDTH - PAD.right + 38}" y="${ly}" dominant-baseline="middle">${escape(s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
