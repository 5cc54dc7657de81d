/**
 * The dashboard: asks who is signed in, shows the login form when nobody is, and otherwise the
 * page the hash names. Routes are listed here, one line each; every page lives in pages/.
 */
import type { ComponentType } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, get, onUnauthorized, post } from './api.ts';
import { AlertsPage } from './pages/alerts.tsx';
import { ConfigPage } from './pages/config.tsx';
import { DevicePage } from './pages/device.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { FirmwarePage } from './pages/firmware.tsx';
import { JobPage, JobsPage } from './pages/jobs.tsx';
import { LoginPage } from './pages/login.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { NewRolloutPage } from './pages/rollout-new.tsx';
import { RolloutPage } from './pages/rollout.tsx';
import { RolloutsPage } from './pages/rollouts.tsx';
import { match, useLocation } from './router.tsx';
import { SessionContext, type Me, type Session } from './session.tsx';
import { ErrorBox, Loading } from './ui/async.tsx';
import { Layout } from './ui/layout.tsx';

export interface PageProps {
  params: Record<string, string>;
  query: URLSearchParams;
}

const routes: ReadonlyArray<[pattern: string, page: ComponentType<PageProps>]> = [
  ['/', OverviewPage],
  ['/devices', DevicesPage],
  ['/devices/:id', DevicePage],
  ['/firmware', FirmwarePage],
  ['/rollouts', RolloutsPage],
  ['/rollouts/new', NewRolloutPage],
  ['/rollouts/:id', RolloutPage],
  ['/alerts', AlertsPage],
  ['/jobs', JobsPage],
  ['/jobs/:id', JobPage],
  ['/config', ConfigPage],
];

function NotFound(props: { path: string }) {
  return (
    <p>
      Nothing at <code>{props.path}</code>. <a href="#/">Back to the overview</a>.
    </p>
  );
}

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const location = useLocation();

  const loadMe = () =>
    get<Me>('/api/v1/auth/me').then(
      (who) => {
        setMe(who);
        setError(undefined);
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) setMe(null);
        else setError(err as ApiError);
      },
    );
  useEffect(() => {
    void loadMe();
    return onUnauthorized(() => setMe(null));
  }, []);

  const session = useMemo<Session | undefined>(() => {
    if (me === null || me === undefined) return undefined;
    const granted = new Set(me.permissions);
    return {
      me,
      can: (permission) => granted.has(permission),
      logout: async () => {
        await post('/api/v1/auth/logout').catch(() => undefined);
        setMe(null);
      },
    };
  }, [me]);

  if (error !== undefined) return <ErrorBox error={error} title="The server refused" />;
  if (me === undefined) return <Loading what="the dashboard" />;
  if (session === undefined) return <LoginPage onLogin={(who) => setMe(who)} />;

  let page = <NotFound path={location.path} />;
  for (const [pattern, Page] of routes) {
    const params = match(pattern, location.path);
    if (params !== undefined) {
      page = <Page params={params} query={location.query} />;
      break;
    }
  }
  return (
    <SessionContext.Provider value={session}>
      <Layout path={location.path}>{page}</Layout>
    </SessionContext.Provider>
  );
}
