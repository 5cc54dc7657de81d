/** Placeholder: filled in by the page's owner. */
import type { PageProps } from '../app.tsx';
import { PageHeader } from '../ui/layout.tsx';

export function RolloutPage(_props: PageProps) {
  return <PageHeader title="RolloutPage" />;
}
