/**
 * Who is signed in and what they may do: `/api/v1/auth/me` lists every permission granted, and the
 * dashboard shows an operation only when it is there (the API checks again; hiding is courtesy,
 * refusing is security). With access control off (`auth.enabled: false`) everything is granted.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';

export interface Me {
  actor: string;
  user: string | null;
  via: 'session' | 'token' | 'none';
  roles: Array<{ role: string; where?: string | null }>;
  permissions: string[];
}

export interface Session {
  me: Me;
  can(permission: string): boolean;
  logout(): Promise<void>;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession outside the signed-in app');
  return session;
}

/** Renders its children only for a user holding `permission` (operation buttons, forms). */
export function Can(props: { permission: string; children: ComponentChildren }) {
  const session = useContext(SessionContext);
  return session?.can(props.permission) === true ? <>{props.children}</> : null;
}
