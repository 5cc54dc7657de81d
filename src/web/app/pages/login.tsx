/** Sign in with a Flotilla user (the same users and roles as the management API and CLI). */
import { useState } from 'preact/hooks';
import { post } from '../api.ts';
import type { Me } from '../session.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';

export function LoginPage(props: { onLogin(me: Me): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useAction(async () => {
    props.onLogin(await post<Me>('/api/v1/auth/login', { username, password }));
  });
  return (
    <div class="login">
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          void login.run();
        }}
      >
        <h1>Flotilla</h1>
        <p class="muted">
          Sign in. On a new installation the user is <code>admin</code>; its password was printed by{' '}
          <code>npm start</code> and is in <code>.data/initial-admin-password</code>.
        </p>
        <label>
          User
          <input
            name="username"
            autoComplete="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </label>
        <button type="submit" class="primary" disabled={login.busy}>
          {login.busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorBox error={login.error} title="Not signed in" />
      </form>
    </div>
  );
}
