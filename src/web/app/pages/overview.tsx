/** Placeholder: filled in by the page's owner. */
import type { PageProps } from '../app.tsx';
import { PageHeader } from '../ui/layout.tsx';

export function OverviewPage(_props: PageProps) {
  return <PageHeader title="OverviewPage" />;
}
