/**
 * Confirmation before an operation: a modal <dialog> saying what will happen to how many devices.
 * `useConfirm()` returns an element to render and an `ask` that resolves true on "confirm".
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmRequest {
  title: string;
  body: ComponentChildren;
  confirmLabel: string;
  /** Red button: destructive or fleet-wide. */
  danger?: boolean;
}

export function useConfirm(): { dialog: JSX.Element | null; ask(request: ConfirmRequest): Promise<boolean> } {
  const [open, setOpen] = useState<{ request: ConfirmRequest; resolve: (ok: boolean) => void } | undefined>();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (open !== undefined && ref.current?.open === false) ref.current.showModal();
  }, [open]);
  const close = (ok: boolean) => {
    ref.current?.close();
    open?.resolve(ok);
    setOpen(undefined);
  };
  const dialog =
    open === undefined ? null : (
      <dialog ref={ref} class="confirm" onCancel={() => close(false)} aria-labelledby="confirm-title">
        <h3 id="confirm-title">{open.request.title}</h3>
        <div class="confirm-body">{open.request.body}</div>
        <div class="actions">
          <button type="button" onClick={() => close(false)}>
            Cancel
          </button>
          <button
            type="button"
            class={open.request.danger === true ? 'danger' : 'primary'}
            onClick={() => close(true)}
            data-testid="confirm"
          >
            {open.request.confirmLabel}
          </button>
        </div>
      </dialog>
    );
  return {
    dialog,
    ask: (request) => new Promise<boolean>((resolve) => setOpen({ request, resolve })),
  };
}
