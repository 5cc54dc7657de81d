/**
 * A card of the device page that loads by itself: a role without the card's permission sees why
 * the card is empty (nothing is asked), a refusal or failure shows in the card, never elsewhere.
 */
import type { ComponentChildren } from 'preact';
import { useSession } from '../session.tsx';
import { ErrorBox, Loading, type Async } from '../ui/async.tsx';
import { Card } from '../ui/layout.tsx';

export function DeviceCard(props: {
  title: string;
  testid: string;
  /** The read permission of the card's route. */
  permission: string;
  class?: string;
  children: ComponentChildren;
}) {
  const session = useSession();
  return (
    <Card title={props.title} testid={props.testid} class={props.class}>
      {session.can(props.permission) ? (
        props.children
      ) : (
        <p class="muted not-permitted">
          Not permitted: your role lacks <code>{props.permission}</code>.
        </p>
      )}
    </Card>
  );
}

/** Loading, the error, or the data rendered by `children`. */
export function Loaded<T>(props: {
  state: Async<T>;
  what: string;
  children: (data: T) => ComponentChildren;
}) {
  const { state } = props;
  if (state.error !== undefined)
    return <ErrorBox error={state.error} title={`Could not load ${props.what}:`} />;
  if (state.data === undefined) return <Loading what={props.what} />;
  return <>{props.children(state.data)}</>;
}
