/** Placeholder: filled in by the page's owner. */
import type { PageProps } from '../app.tsx';
import { PageHeader } from '../ui/layout.tsx';

export function JobsPage(_props: PageProps) {
  return <PageHeader title="Jobs" />;
}

export function JobPage(_props: PageProps) {
  return <PageHeader title="Job" />;
}
