/**
 * Hash routing (`#/devices/sensor-0001?where=…`): every page has a link that survives a reload and
 * the server needs no fallback route. Pages are matched by pattern in app.tsx.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  /** `/devices/sensor-0001` */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const q = hash.indexOf('?');
  return q < 0
    ? { path: hash, query: new URLSearchParams() }
    : { path: hash.slice(0, q), query: new URLSearchParams(hash.slice(q + 1)) };
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return location;
}

/** `href('/devices', {where: 'x'})` → `#/devices?where=x` */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const text = params.toString();
  return `#${path}${text === '' ? '' : `?${text}`}`;
}

export function navigate(path: string, query: Record<string, string | undefined> = {}): void {
  window.location.hash = href(path, query).slice(1);
}

/** Replaces the query of the current page without adding a history entry per keystroke. */
export function replaceQuery(query: Record<string, string | undefined>): void {
  const url = `${window.location.pathname}${window.location.search}${href(current().path, query)}`;
  window.history.replaceState(null, '', url);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** `/devices/:id` against `/devices/sensor-1` → `{id: 'sensor-1'}`; undefined when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return undefined;
  }
  return params;
}

export function Link(props: {
  to: string;
  query?: Record<string, string | undefined>;
  class?: string;
  children: ComponentChildren;
}) {
  return (
    <a href={href(props.to, props.query)} class={props.class}>
      {props.children}
    </a>
  );
}
