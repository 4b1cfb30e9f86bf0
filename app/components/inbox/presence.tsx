import { useCallback, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Button } from "../ui/button";
import type { SoftLock } from "./soft-lock";

/**
 * Who else has the conversation open, and the soft lock: while another member is replying the
 * composer says so, and sending asks "Send anyway" first. Nobody is ever blocked. Fed by
 * useInboxEvents (its `lock`); without JavaScript nothing is shown and sending works as usual.
 */

function nameList(names: string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** "Also here: Asha and Ravi" — the other members viewing, and the replying banner. */
export function ConversationPresence({ lock }: { lock: SoftLock }) {
  const viewers = lock.viewing.map((e) => e.name || "Someone");
  if (viewers.length === 0 && !lock.banner) return null;
  return (
    <div aria-live="polite">
      {viewers.length > 0 ? (
        <p className="muted">
          Also viewing: <span>{nameList(viewers)}</span>
        </p>
      ) : null}
      <ReplyingBanner lock={lock} />
    </div>
  );
}

/** The composer's line "<Name> is replying"; nothing when nobody else is. */
export function ReplyingBanner({ lock }: { lock: SoftLock }) {
  if (!lock.banner) return null;
  return (
    <p className="alert alert-warning" role="status">
      {lock.banner}
    </p>
  );
}

/**
 * The composer form's guard: `onSubmit` goes on the <form>; while another member is replying the
 * first press of send is held and `confirm` (render it next to the send button) asks "Send
 * anyway" or "Wait". Once confirmed the same submit goes ahead.
 */
export function useSoftLockSubmit(lock: SoftLock): {
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
  confirm: ReactNode;
} {
  const [held, setHeld] = useState<{ form: HTMLFormElement; submitter: HTMLElement | null } | null>(
    null,
  );
  const approved = useRef(false);

  const onSubmit = useCallback(
    (event: FormEvent<HTMLFormElement>) => {
      if (approved.current || !lock.confirmBeforeSend) {
        approved.current = false;
        return;
      }
      event.preventDefault();
      const native = event.nativeEvent as SubmitEvent;
      setHeld({ form: event.currentTarget, submitter: native.submitter ?? null });
    },
    [lock.confirmBeforeSend],
  );

  const sendAnyway = () => {
    if (!held) return;
    approved.current = true;
    const { form, submitter } = held;
    setHeld(null);
    form.requestSubmit(submitter instanceof HTMLButtonElement ? submitter : undefined);
  };

  const confirm =
    held && lock.confirmBeforeSend ? (
      <div className="alert alert-warning" role="alertdialog" aria-label="Someone else is replying">
        <p>{lock.banner}. Send your reply anyway?</p>
        <div className="page-actions">
          <Button type="button" onClick={sendAnyway}>
            Send anyway
          </Button>
          <Button type="button" variant="secondary" onClick={() => setHeld(null)}>
            Wait
          </Button>
        </div>
      </div>
    ) : null;

  return { onSubmit, confirm };
}
