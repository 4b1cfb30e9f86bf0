import { Form, useNavigation } from "@remix-run/react";
import { useCallback, useEffect, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { FormErrors } from "~/components/form";
import { useSoftLockSubmit } from "~/components/inbox/presence";
import type { InboxLive } from "~/components/inbox/use-inbox-events";
import { Button } from "~/components/ui/button";
import { resultMessages, submittedOf, type FormResult } from "~/lib/form-result";
import { AiAssist } from "./ai-draft";
import {
  CannedInsertFields,
  CannedListbox,
  listboxKey,
  matchingCanned,
  slashQuery,
  type CannedOption,
} from "./canned-picker";
import type { ConversationPageData } from "./route";

interface InsertExtra {
  insert?: {
    text: string;
    attachments: { id: string; filename: string }[];
    pending: { cannedId: number; prompts: string[] } | null;
    leftOut: number;
  };
}

const storageKey = (slug: string, id: number) => `inbox-reply:${slug}:${id}`;

/**
 * The Reply box and what helps fill it: canned responses ("/" listbox, or the select and
 * "Insert"), attachments (WhatsApp), the AI draft. The text is kept in this browser per
 * conversation until it is sent. One form: Send and Insert are its two buttons, so everything
 * works without JavaScript too.
 */
export function ReplyForm({
  d,
  reply,
  live,
  busy,
}: {
  d: ConversationPageData;
  reply: FormResult<unknown> | undefined;
  live: InboxLive;
  busy: boolean;
}) {
  const typed = submittedOf(reply);
  const extra = (reply as FormResult<InsertExtra> | undefined)?.extra?.insert;
  const whatsapp = d.conversation.channel === "whatsapp";
  const key = storageKey(d.workspace.slug, d.conversation.id);
  const prefill = d.composer.prefill;
  const [text, setText] = useState(
    typeof typed.text === "string" ? typed.text : (prefill?.text ?? ""),
  );
  const [draftId, setDraftId] = useState(
    typeof typed.draftId === "string" ? typed.draftId : (prefill?.draftId ?? ""),
  );
  const [attachments, setAttachments] = useState(extra?.attachments ?? []);
  const [chosen, setChosen] = useState(extra?.pending ? String(extra.pending.cannedId) : "");
  const [slash, setSlash] = useState<{ start: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const [hydrated, setHydrated] = useState(false);
  const textRef = useRef<HTMLTextAreaElement>(null);
  const insertRef = useRef<HTMLButtonElement>(null);
  const { onSubmit, confirm } = useSoftLockSubmit(live.lock);
  const navigation = useNavigation();
  const sending = useRef(false);

  // The server's answer (an Insert, or a refused Send) replaces the box; else this browser's copy.
  useEffect(() => {
    setHydrated(true);
    if (typeof typed.text === "string" || prefill) return;
    const saved = window.localStorage.getItem(key);
    if (saved) setText(saved);
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (typeof typed.text === "string") setText(typed.text);
    if (extra) {
      setAttachments(extra.attachments);
      setChosen(extra.pending ? String(extra.pending.cannedId) : "");
    }
  }, [reply]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (!hydrated) return;
    if (text) window.localStorage.setItem(key, text);
    else window.localStorage.removeItem(key);
  }, [text, key, hydrated]);

  // A Send that came back without errors (redirected here): the box starts empty again.
  useEffect(() => {
    if (navigation.state === "submitting") {
      sending.current = navigation.formData?.get("intent") === "reply";
    } else if (navigation.state === "idle" && sending.current) {
      sending.current = false;
      if (!reply) {
        setText("");
        setDraftId("");
        setAttachments([]);
        window.localStorage.removeItem(key);
        live.stoppedTyping();
      }
    }
  }, [navigation.state]); // eslint-disable-line react-hooks/exhaustive-deps

  const options = slash ? matchingCanned(d.composer.canned, slash.query) : [];
  const pick = useCallback(
    (option: CannedOption) => {
      const el = textRef.current;
      const at = slash;
      flushSync(() => {
        if (at && el) {
          const caret = el.selectionStart;
          setText(el.value.slice(0, at.start) + el.value.slice(caret));
        }
        setSlash(null);
        setChosen(String(option.id));
      });
      // Prompts are asked in their fields first; otherwise it goes in at once.
      if (option.prompts.length === 0) insertRef.current?.click();
    },
    [slash],
  );
  const chosenPrompts =
    extra?.pending && String(extra.pending.cannedId) === chosen
      ? extra.pending.prompts
      : (d.composer.canned.find((c) => String(c.id) === chosen)?.prompts ?? []);

  return (
    <section className="inbox-composer" aria-labelledby="composer-heading">
      <ConversationPresenceSlot live={live} />
      <h2 id="composer-heading" className="visually-hidden">
        Your response
      </h2>
      <AiAssist
        d={d}
        text={text}
        hydrated={hydrated}
        onUse={(draft) => {
          setText(draft.body);
          setDraftId(String(draft.id));
          textRef.current?.focus();
        }}
        onRewrite={setText}
      />
      <Form
        method="post"
        encType={whatsapp ? "multipart/form-data" : undefined}
        onSubmit={(event) => {
          const submitter = (event.nativeEvent as SubmitEvent).submitter;
          if (submitter instanceof HTMLButtonElement && submitter.value === "insert") return;
          onSubmit(event);
        }}
      >
        <FormErrors errors={resultMessages(reply)} />
        {d.conversation.channel === "email" ? (
          <div className="field">
            <label htmlFor="reply-subject">Subject</label>
            <input
              id="reply-subject"
              name="subject"
              defaultValue={typeof typed.subject === "string" ? typed.subject : d.emailSubject}
            />
          </div>
        ) : null}
        {draftId ? <input type="hidden" name="draftId" value={draftId} /> : null}
        <div className="field inbox-reply-field">
          <label htmlFor="reply-text">Reply</label>
          <textarea
            id="reply-text"
            ref={textRef}
            name="text"
            rows={4}
            value={text}
            role={slash ? "combobox" : undefined}
            aria-expanded={slash ? true : undefined}
            aria-controls={slash ? "canned-listbox" : undefined}
            aria-activedescendant={
              slash && options[active] ? `canned-option-${options[active].id}` : undefined
            }
            aria-describedby={d.composer.canned.length ? "reply-hint" : undefined}
            onChange={(e) => {
              setText(e.target.value);
              const q = slashQuery(e.target.value, e.target.selectionStart);
              setSlash(d.composer.canned.length ? q : null);
              setActive(0);
              if (e.target.value.trim()) live.typing();
              else live.stoppedTyping();
            }}
            onKeyDown={(e) => {
              if (!slash) return;
              listboxKey(
                e,
                { options, active },
                { move: setActive, pick, close: () => setSlash(null) },
              );
            }}
            onBlur={() => setSlash(null)}
          />
          {slash ? <CannedListbox options={options} active={active} onPick={pick} /> : null}
          {d.composer.canned.length && hydrated ? (
            <p id="reply-hint" className="muted">
              Type / for canned responses.
            </p>
          ) : null}
        </div>
        <CannedInsertFields
          key={chosen}
          options={d.composer.canned}
          chosen={chosen}
          onChoose={setChosen}
          prompts={chosenPrompts}
          insertRef={insertRef}
        />
        <Attachments whatsapp={whatsapp} attachments={attachments} leftOut={extra?.leftOut ?? 0} />
        {confirm}
        <div className="inbox-composer-actions">
          <Button name="intent" value="reply" disabled={busy}>
            Send
          </Button>
        </div>
      </Form>
    </section>
  );
}

function ConversationPresenceSlot({ live }: { live: InboxLive }) {
  const others = live.lock.viewing.map((e) => e.name || "Someone");
  return (
    <div aria-live="polite">
      {others.length > 0 ? (
        <p className="muted">
          {others.join(", ")} {others.length === 1 ? "is" : "are"} viewing
        </p>
      ) : null}
      {live.lock.banner ? (
        <p className="alert alert-warning" role="status">
          {live.lock.banner}
        </p>
      ) : null}
    </div>
  );
}

/** The reply's attachments (unticking one leaves it out), and the upload on WhatsApp. */
function Attachments({
  whatsapp,
  attachments,
  leftOut,
}: {
  whatsapp: boolean;
  attachments: { id: string; filename: string }[];
  leftOut: number;
}) {
  if (!whatsapp) {
    return (
      <p className="muted">
        {leftOut > 0
          ? `${leftOut} attachment${leftOut === 1 ? " was" : "s were"} left out: attachments go on WhatsApp only.`
          : "Attachments go on WhatsApp only."}
      </p>
    );
  }
  return (
    <div className="inbox-attachments">
      {attachments.map((a) => (
        <label key={a.id} className="checkbox">
          <input type="checkbox" name="attachment" value={a.id} defaultChecked /> {a.filename}
        </label>
      ))}
      <div className="field">
        <label htmlFor="reply-file">Attach a file</label>
        <input id="reply-file" type="file" name="file" />
      </div>
    </div>
  );
}
