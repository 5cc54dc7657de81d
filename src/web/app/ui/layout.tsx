/** The frame around every page: navigation on the left, who is signed in, the page on the right. */
import type { ComponentChildren } from 'preact';
import { useSession } from '../session.tsx';

export interface NavItem {
  path: string;
  label: string;
  /** Shown only with this permission. */
  permission: string;
}

export const navItems: readonly NavItem[] = [
  { path: '/', label: 'Overview', permission: 'devices:read' },
  { path: '/devices', label: 'Devices', permission: 'devices:read' },
  { path: '/firmware', label: 'Firmware', permission: 'firmware:read' },
  { path: '/rollouts', label: 'Rollouts', permission: 'rollouts:read' },
  { path: '/alerts', label: 'Alerts', permission: 'alerts:read' },
  { path: '/jobs', label: 'Jobs', permission: 'jobs:read' },
  { path: '/config', label: 'Configuration', permission: 'config:read' },
];

export function Layout(props: { path: string; children: ComponentChildren }) {
  const session = useSession();
  const active = (item: NavItem) =>
    item.path === '/'
      ? props.path === '/'
      : props.path === item.path || props.path.startsWith(`${item.path}/`);
  return (
    <div class="layout">
      <nav class="sidebar" aria-label="Main">
        <a class="brand" href="#/">
          Flotilla
        </a>
        <ul>
          {navItems
            .filter((item) => session.can(item.permission))
            .map((item) => (
              <li key={item.path}>
                <a href={`#${item.path}`} class={active(item) ? 'active' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
        </ul>
        <div class="whoami">
          <span data-testid="whoami">{session.me.user ?? session.me.actor}</span>
          <span class="muted">{session.me.roles.map((r) => r.role).join(', ') || 'no roles'}</span>
          {session.me.via === 'session' ? (
            <button type="button" class="link" onClick={() => void session.logout()}>
              Log out
            </button>
          ) : null}
        </div>
      </nav>
      <main class="content">{props.children}</main>
    </div>
  );
}

/** A page's title row with optional actions on the right. */
export function PageHeader(props: {
  title: ComponentChildren;
  subtitle?: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle !== undefined ? <p class="muted">{props.subtitle}</p> : null}
      </div>
      <div class="actions">{props.children}</div>
    </header>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  class?: string;
  children: ComponentChildren;
  testid?: string;
}) {
  return (
    <section class={`card ${props.class ?? ''}`} data-testid={props.testid}>
      {props.title !== undefined ? <h2>{props.title}</h2> : null}
      {props.children}
    </section>
  );
}

/** A big number with its label (online %, open alerts …). */
export function Stat(props: {
  label: string;
  value: ComponentChildren;
  hint?: ComponentChildren;
  testid?: string;
}) {
  return (
    <div class="stat" data-testid={props.testid}>
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
      {props.hint !== undefined ? <div class="muted stat-hint">{props.hint}</div> : null}
    </div>
  );
}

/** A coloured state label: success / failed / paused / critical … */
export function Badge(props: { value: string; kind?: string }) {
  return (
    <span class={`badge badge-${(props.kind ?? props.value).replace(/[^a-z-]/g, '')}`}>{props.value}</span>
  );
}
