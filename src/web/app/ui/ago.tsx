/** A time shown as "3 min ago", with the exact time on hover; "—" (muted) when there is none. */
import { formatAgo, formatTime } from './format.ts';

export function Ago(props: { at: string | number | null | undefined }) {
  const { at } = props;
  if (at === null || at === undefined || at === '') return <span class="muted">—</span>;
  return <span title={formatTime(at)}>{formatAgo(at)}</span>;
}
