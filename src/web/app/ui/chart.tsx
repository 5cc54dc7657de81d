/**
 * Charts are Chart.js (tree-shaken: only the controllers registered here are bundled). `<ChartView>`
 * owns one Chart instance per canvas and updates it in place when the data changes, so a live
 * refresh does not flicker or re-animate.
 */
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);
Chart.defaults.font.family = 'system-ui, sans-serif';
Chart.defaults.color = '#475467';
Chart.defaults.animation = false;

/** A colour per series, colour-blind friendly (Okabe-Ito), repeating. */
export const palette = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#999999',
];

export function ChartView(props: { config: ChartConfiguration; height?: number; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | undefined>(undefined);
  const withDefaults = (config: ChartConfiguration): ChartConfiguration => ({
    ...config,
    options: { responsive: true, maintainAspectRatio: false, ...config.options },
  });
  useEffect(() => {
    if (canvas.current === null) return undefined;
    chart.current = new Chart(canvas.current, withDefaults(props.config));
    return () => chart.current?.destroy();
    // The chart is created once per type; data changes go through the update effect below.
  }, [props.config.type]);
  useEffect(() => {
    const current = chart.current;
    if (current === undefined) return;
    const next = withDefaults(props.config);
    current.data = next.data;
    if (next.options !== undefined) current.options = next.options;
    current.update('none');
  }, [props.config]);
  return (
    <div class="chart" style={{ height: `${props.height ?? 220}px` }}>
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}

/** "HH:MM" (today) or "MM-DD HH:MM" for a time axis on a linear scale (no date adapter needed). */
export function timeTick(value: number | string, spanMs: number): string {
  const date = new Date(Number(value));
  const iso = date.toISOString();
  return spanMs > 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}
