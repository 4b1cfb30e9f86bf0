import { Form } from "@remix-run/react";
import {
  useEffect,
  useId,
  useRef,
  useState,
  type ChangeEvent,
  type FocusEvent,
  type ReactNode,
  type TextareaHTMLAttributes,
} from "react";
import { escapeHtml } from "~/lib/html";
import { AiWriter } from "./ai-writer";
import { FormErrors } from "./form";
import { Button, ButtonLink } from "./ui/button";
import { Field, FieldNotes } from "./ui/field";
import { Card } from "./ui/layout";

/**
 * The template editor for email, SMS and Telegram (WhatsApp: template-editor-whatsapp.tsx).
 * A plain form posted to the page's action (intent=save); field names are what
 * domain/templates/template-form.ts reads, and the domain's field errors come back under the
 * same names. Blocks, buttons, the SMS counter, "Insert variable" and "Write with AI" need
 * JavaScript; everything else works without it.
 */

export type EditorChannel = "email" | "sms" | "telegram";
export const BLOCK_TYPES = ["heading", "paragraph", "button", "image", "divider"] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];
const BLOCK_LABELS: Record<BlockType, string> = {
  heading: "Heading",
  paragraph: "Text",
  button: "Button",
  image: "Image",
  divider: "Divider",
};

/** One email block as the form holds it (every value a string). */
export interface BlockDraft {
  type: BlockType;
  text?: string;
  level?: string;
  url?: string;
  color?: string;
  src?: string;
  alt?: string;
  href?: string;
  width?: string;
}

export interface TemplateDraft {
  channel: EditorChannel;
  name: string;
  subject: string;
  preheader: string;
  blocks: BlockDraft[];
  trackLinks: boolean;
  text: string;
  dltTemplateId: string;
  dltText: string;
  buttons: { text: string; url: string }[];
}

export const EMPTY_DRAFT: Omit<TemplateDraft, "channel"> = {
  name: "",
  subject: "",
  preheader: "",
  blocks: [
    { type: "heading", text: "", level: "1" },
    { type: "paragraph", text: "" },
  ],
  trackLinks: true,
  text: "",
  dltTemplateId: "",
  dltText: "",
  buttons: [],
};

const str = (value: unknown) =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : "";

/**
 * The editor's values from a saved template's content or a submitted input (both have the
 * domain's field names): every value as the form shows it.
 */
export function templateDraft(
  channel: EditorChannel,
  source: { name?: unknown; [field: string]: unknown },
): TemplateDraft {
  const blocks = Array.isArray(source.blocks)
    ? (source.blocks as Record<string, unknown>[]).map((b) => {
        const draft: BlockDraft = {
          type: (BLOCK_TYPES as readonly string[]).includes(str(b?.type))
            ? (str(b.type) as BlockType)
            : "paragraph",
        };
        for (const key of [
          "text",
          "level",
          "url",
          "color",
          "src",
          "alt",
          "href",
          "width",
        ] as const) {
          if (b?.[key] !== undefined && b[key] !== null) draft[key] = str(b[key]);
        }
        return draft;
      })
    : null;
  const buttons = Array.isArray(source.buttons)
    ? (source.buttons as Record<string, unknown>[]).map((b) => ({
        text: str(b?.text),
        url: str(b?.url),
      }))
    : [];
  return {
    channel,
    name: str(source.name),
    subject: str(source.subject),
    preheader: str(source.preheader),
    // A body written as raw HTML (API) has no blocks: the editor starts from empty blocks.
    blocks: blocks ?? EMPTY_DRAFT.blocks,
    trackLinks: source.trackLinks === undefined ? true : source.trackLinks === true,
    text: str(source.text),
    dltTemplateId: str(source.dltTemplateId),
    dltText: str(source.dltText),
    buttons,
  };
}

export interface EditorVariable {
  key: string;
  label: string;
  kind: "contact" | "attribute";
}

/** What sms.ts's smsSegments answers (passed in by the route: components import no domain). */
export interface SmsCount {
  encoding: "GSM-7" | "UCS-2";
  characters: number;
  segments: number;
  perSegment: number;
  unicodeCharacters: string[];
}

export type FieldErrorMap = Record<string, string[] | null | undefined>;

// ---------------------------------------------------------------------------------------------
// Inserting variables into the field last focused

type TextControl = HTMLInputElement | HTMLTextAreaElement;

/** Types into a controlled input the way a person would, so React's onChange sees it. */
export function insertIntoField(element: TextControl, text: string): void {
  const start = element.selectionStart ?? element.value.length;
  const end = element.selectionEnd ?? start;
  const next = element.value.slice(0, start) + text + element.value.slice(end);
  const proto =
    element instanceof HTMLTextAreaElement
      ? HTMLTextAreaElement.prototype
      : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value")?.set?.call(element, next);
  element.dispatchEvent(new Event("input", { bubbles: true }));
  element.focus();
  element.setSelectionRange(start + text.length, start + text.length);
}

/** Remembers the last focused field that takes variables (marked data-variables). */
export function useInsertTarget() {
  const target = useRef<TextControl | null>(null);
  const [targetLabel, setTargetLabel] = useState<string | null>(null);
  const onFocusCapture = (event: FocusEvent<HTMLElement>) => {
    const el = event.target;
    if (
      (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) &&
      el.dataset.variables === "yes"
    ) {
      target.current = el;
      setTargetLabel(el.labels?.[0]?.textContent ?? null);
    }
  };
  return { target, targetLabel, onFocusCapture };
}

/** The variables a template may use, each with Insert (into the last field) and the tag. */
export function VariableList({
  variables,
  onInsert,
  targetLabel,
}: {
  variables: EditorVariable[];
  onInsert: (tag: string) => boolean;
  targetLabel: string | null;
}) {
  const [hydrated, setHydrated] = useState(false);
  const [status, setStatus] = useState("");
  useEffect(() => setHydrated(true), []);
  return (
    <Card title="Personalisation">
      <p className="field-hint">
        Write <code>{"{{ first_name }}"}</code> for a contact&apos;s value, with a fallback:{" "}
        <code>{'{{ first_name | default: "there" }}'}</code>. Filters: <code>upcase</code>,{" "}
        <code>downcase</code>, <code>capitalize</code>, <code>truncate: 20</code>,{" "}
        <code>url_encode</code>. Only these variables are allowed; anything else is refused when you
        save.
        {targetLabel ? ` Insert puts the variable into “${targetLabel}”.` : null}
      </p>
      <div className="table-scroll">
        <table className="table">
          <caption className="visually-hidden">Variables you can use</caption>
          <thead>
            <tr>
              <th scope="col">Variable</th>
              <th scope="col">What it is</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {variables.map((v) => {
              const tag = `{{ ${v.key} }}`;
              return (
                <tr key={v.key}>
                  <td>
                    <code>{tag}</code>
                  </td>
                  <td>
                    {v.label}
                    {v.kind === "attribute" ? <span className="badge">custom</span> : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="btn btn-ghost"
                      disabled={!hydrated}
                      onClick={async () => {
                        if (onInsert(tag)) {
                          setStatus(`Inserted ${tag}.`);
                          return;
                        }
                        try {
                          await navigator.clipboard.writeText(tag);
                          setStatus(`Copied ${tag}: paste it where you want it.`);
                        } catch {
                          setStatus(`Click into a field first, then Insert ${tag}.`);
                        }
                      }}
                    >
                      Insert<span className="visually-hidden"> {v.label}</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted" role="status" aria-live="polite">
        {status}
      </p>
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------
// Controls

/** A labelled, controlled textarea with hint and errors (form.tsx's TextArea is uncontrolled). */
export function TextAreaField({
  label,
  hint,
  errors,
  className,
  ...props
}: TextareaHTMLAttributes<HTMLTextAreaElement> & {
  label: ReactNode;
  hint?: ReactNode;
  errors?: string[] | null;
}) {
  const generated = useId();
  const id = props.id ?? generated;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = errors?.length ? `${id}-error` : undefined;
  return (
    <div className={["field", className].filter(Boolean).join(" ")}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        aria-invalid={errorId ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}
        {...props}
      />
      <FieldNotes hint={hint} hintId={hintId} errors={errors ?? undefined} errorId={errorId} />
    </div>
  );
}

const errs = (errors: FieldErrorMap, name: string) => errors[name] ?? undefined;

/** Errors under a name and all names inside it ("buttons" and "buttons[0].url"). */
function errorsWithin(errors: FieldErrorMap, prefix: string): string[] {
  return Object.entries(errors)
    .filter(([key]) => key === prefix)
    .flatMap(([, list]) => list ?? []);
}

let nextKey = 0;
const keyed = <T,>(items: T[]) => items.map((item) => ({ key: ++nextKey, item }));

// ---------------------------------------------------------------------------------------------
// The editor

export interface TemplateEditorProps {
  draft: TemplateDraft;
  errors?: FieldErrorMap;
  formError?: string | null;
  /** The page's action URL. */
  action: string;
  variables: EditorVariable[];
  ai: { action: string; configured: boolean };
  smsSegments: (text: string) => SmsCount;
  dltRequired: boolean;
  readOnly?: boolean;
  submitLabel: string;
  cancelTo: string;
  busy?: boolean;
  /** Extra buttons next to Save (e.g. Delete…). */
  children?: ReactNode;
}

export function TemplateEditor({
  draft,
  errors = {},
  formError,
  action,
  variables,
  ai,
  smsSegments,
  dltRequired,
  readOnly = false,
  submitLabel,
  cancelTo,
  busy = false,
  children,
}: TemplateEditorProps) {
  const [name, setName] = useState(draft.name);
  const [subject, setSubject] = useState(draft.subject);
  const [preheader, setPreheader] = useState(draft.preheader);
  const [blocks, setBlocks] = useState(() => keyed(draft.blocks));
  const [trackLinks, setTrackLinks] = useState(draft.trackLinks);
  const [text, setText] = useState(draft.text);
  const [dltTemplateId, setDltTemplateId] = useState(draft.dltTemplateId);
  const [dltText, setDltText] = useState(draft.dltText);
  const [buttons, setButtons] = useState(() => keyed(draft.buttons));
  const [newBlockType, setNewBlockType] = useState<BlockType>("paragraph");
  const [hydrated, setHydrated] = useState(false);
  const [announce, setAnnounce] = useState("");
  const insert = useInsertTarget();
  useEffect(() => setHydrated(true), []);

  const channel = draft.channel;
  const onInsert = (tag: string) => {
    const el = insert.target.current;
    if (!el || !el.isConnected || el.disabled) return false;
    insertIntoField(el, tag);
    return true;
  };

  const setBlock = (index: number, patch: Partial<BlockDraft>) =>
    setBlocks((list) =>
      list.map((b, i) => (i === index ? { ...b, item: { ...b.item, ...patch } } : b)),
    );
  const moveBlock = (index: number, by: -1 | 1) => {
    setBlocks((list) => {
      const to = index + by;
      if (to < 0 || to >= list.length) return list;
      const next = [...list];
      [next[index], next[to]] = [next[to]!, next[index]!];
      return next;
    });
    setAnnounce(`Block ${index + 1} moved ${by < 0 ? "up" : "down"}.`);
  };
  const removeBlock = (index: number) => {
    setBlocks((list) => list.filter((_, i) => i !== index));
    setAnnounce(`Block ${index + 1} removed.`);
  };
  const addBlock = (block: BlockDraft) => {
    setBlocks((list) => [...list, { key: ++nextKey, item: block }]);
    setAnnounce(`${BLOCK_LABELS[block.type]} block added at the end.`);
  };

  /** An AI suggestion fills the first empty text block, or becomes a new one at the end. */
  const applySuggestion = (value: string) => {
    const empty = blocks.findIndex((b) => b.item.type === "paragraph" && !b.item.text?.trim());
    if (empty === -1) addBlock({ type: "paragraph", text: value });
    else {
      setBlock(empty, { text: value });
      setAnnounce(`Block ${empty + 1} filled with the suggestion.`);
    }
  };

  const sms = channel === "sms" ? smsSegments(text) : null;

  return (
    <div onFocusCapture={insert.onFocusCapture}>
      <Form method="post" action={action} noValidate aria-label="Template">
        <input type="hidden" name="intent" value="save" />
        <input type="hidden" name="channel" value={channel} />
        <FormErrors errors={formError ? [formError] : undefined} />
        <fieldset disabled={readOnly} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
          <legend className="visually-hidden">Template</legend>
          <Card title="Template">
            <Field
              label="Name"
              name="name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={100}
              hint="For you and your team; recipients never see it."
              errors={errs(errors, "name")}
              required
            />
            {errs(errors, "channel") ? (
              <p className="field-error">{errs(errors, "channel")!.join(" ")}</p>
            ) : null}

            {channel === "email" ? (
              <>
                <Field
                  label="Subject"
                  name="subject"
                  value={subject}
                  onChange={(e) => setSubject(e.target.value)}
                  maxLength={150}
                  data-variables="yes"
                  hint={`${subject.length} / 150 characters. Most inboxes show about 60.`}
                  errors={errs(errors, "subject")}
                  required
                />
                <Field
                  label="Preheader (optional)"
                  name="preheader"
                  value={preheader}
                  onChange={(e) => setPreheader(e.target.value)}
                  maxLength={150}
                  data-variables="yes"
                  hint="The line inboxes show after the subject."
                  errors={errs(errors, "preheader")}
                />
                {ai.configured ? (
                  <details>
                    <summary>Write the subject with AI</summary>
                    <AiWriter
                      action={ai.action}
                      configured={ai.configured}
                      channel="email-subject"
                      lockChannel
                      title="Write the subject with AI"
                      onUse={(value) => setSubject(value.replace(/\s+/g, " ").trim())}
                    />
                  </details>
                ) : null}
                <div className="field field-checkbox">
                  <input
                    id="trackLinks-checkbox"
                    type="checkbox"
                    name="trackLinks"
                    value="on"
                    checked={trackLinks}
                    onChange={(e) => setTrackLinks(e.target.checked)}
                    aria-describedby="trackLinks-hint"
                  />
                  <label htmlFor="trackLinks-checkbox">Track link clicks</label>
                </div>
                <p id="trackLinks-hint" className="field-hint">
                  Links go through a short redirect that records the click (when the workspace
                  tracks clicks).
                </p>
              </>
            ) : null}
          </Card>

          {channel === "email" ? (
            <Card title="Body">
              <p className="field-hint">
                The email is built from blocks and sent as responsive HTML with a plain-text
                version. In text blocks: <code>**bold**</code>, <code>_italic_</code> and{" "}
                <code>[link text](https://…)</code>.
              </p>
              <FieldNotes
                errors={errorsWithin(errors, "blocks")}
                errorId={errorsWithin(errors, "blocks").length ? "blocks-error" : undefined}
              />
              <ol style={{ listStyle: "none", padding: 0 }} aria-label="Blocks">
                {blocks.map(({ key, item: block }, i) => (
                  <li key={key}>
                    <BlockFields
                      index={i}
                      count={blocks.length}
                      block={block}
                      errors={errors}
                      hydrated={hydrated}
                      onChange={(patch) => setBlock(i, patch)}
                      onMove={(by) => moveBlock(i, by)}
                      onRemove={() => removeBlock(i)}
                    />
                  </li>
                ))}
              </ol>
              <div className="inline-form">
                <div className="field">
                  <label htmlFor="new-block-type">New block</label>
                  <select
                    id="new-block-type"
                    value={newBlockType}
                    onChange={(e) => setNewBlockType(e.target.value as BlockType)}
                  >
                    {BLOCK_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {BLOCK_LABELS[t]}
                      </option>
                    ))}
                  </select>
                </div>
                <button
                  type="button"
                  className="btn btn-secondary"
                  disabled={!hydrated || blocks.length >= 100}
                  onClick={() => addBlock(newBlock(newBlockType))}
                >
                  Add block
                </button>
              </div>
              <p className="visually-hidden" role="status" aria-live="polite">
                {announce}
              </p>
              <AiWriter
                action={ai.action}
                configured={ai.configured}
                channel="email-body"
                lockChannel
                title="Write the body with AI"
                onUse={applySuggestion}
              />
            </Card>
          ) : null}

          {channel === "sms" ? (
            <Card title="Message">
              <TextAreaField
                label="Text"
                name="text"
                rows={5}
                maxLength={1600}
                value={text}
                onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setText(e.target.value)}
                data-variables="yes"
                errors={errs(errors, "text")}
                required
              />
              {sms ? (
                <p className="field-hint" role="status" aria-live="polite" id="sms-count">
                  {sms.characters} character{sms.characters === 1 ? "" : "s"} ·{" "}
                  <strong>
                    {sms.segments} segment{sms.segments === 1 ? "" : "s"}
                  </strong>{" "}
                  · {sms.encoding} ({sms.perSegment} per segment)
                  {sms.unicodeCharacters.length ? (
                    <> · UCS-2 because of {sms.unicodeCharacters.slice(0, 8).join(" ")}</>
                  ) : null}
                  . Variables count as written here; each recipient&apos;s values change the length.
                </p>
              ) : null}
              <Field
                label={dltRequired ? "DLT template ID" : "DLT template ID (India, optional)"}
                name="dltTemplateId"
                value={dltTemplateId}
                onChange={(e) => setDltTemplateId(e.target.value)}
                inputMode="numeric"
                hint={
                  dltRequired
                    ? "Your SMS account sends through India DLT: operators drop texts that do not match a registered template."
                    : "Needed to send to Indian numbers: the template's ID on your DLT portal."
                }
                errors={errs(errors, "dltTemplateId")}
              />
              <TextAreaField
                label={dltRequired ? "Registered DLT text" : "Registered DLT text (optional)"}
                name="dltText"
                rows={4}
                value={dltText}
                onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setDltText(e.target.value)}
                hint="Exactly as registered, with {#var#} where values go. The text above must match it; put variables only where it has {#var#}."
                errors={errs(errors, "dltText")}
              />
              <AiWriter
                action={ai.action}
                configured={ai.configured}
                channel="sms"
                lockChannel
                onUse={setText}
              />
            </Card>
          ) : null}

          {channel === "telegram" ? (
            <Card title="Message">
              <TextAreaField
                label="Text (Telegram HTML)"
                name="text"
                rows={6}
                value={text}
                onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setText(e.target.value)}
                data-variables="yes"
                hint={
                  <>
                    Allowed: <code>&lt;b&gt;</code>, <code>&lt;i&gt;</code>, <code>&lt;u&gt;</code>,{" "}
                    <code>&lt;s&gt;</code>, <code>&lt;a href=&quot;https://…&quot;&gt;</code>,{" "}
                    <code>&lt;code&gt;</code>, <code>&lt;pre&gt;</code>. Write &amp;, &lt; and &gt;
                    as <code>&amp;amp;</code>, <code>&amp;lt;</code>, <code>&amp;gt;</code>. At most
                    4,096 characters.
                  </>
                }
                errors={errs(errors, "text")}
                required
              />
              <fieldset className="field">
                <legend>Buttons (optional, up to 3)</legend>
                <FieldNotes
                  errors={errorsWithin(errors, "buttons")}
                  errorId={errorsWithin(errors, "buttons").length ? "buttons-error" : undefined}
                />
                {buttons.length === 0 ? (
                  <p className="muted">No buttons: the message is text only.</p>
                ) : null}
                {buttons.map(({ key, item: button }, i) => (
                  <div key={key} className="inline-form">
                    <Field
                      label={`Button ${i + 1} label`}
                      name={`buttons[${i}].text`}
                      value={button.text}
                      maxLength={64}
                      onChange={(e) =>
                        setButtons((list) =>
                          list.map((b, j) =>
                            j === i ? { ...b, item: { ...b.item, text: e.target.value } } : b,
                          ),
                        )
                      }
                      errors={errs(errors, `buttons[${i}].text`)}
                    />
                    <Field
                      label={`Button ${i + 1} link`}
                      name={`buttons[${i}].url`}
                      type="url"
                      value={button.url}
                      placeholder="https://"
                      onChange={(e) =>
                        setButtons((list) =>
                          list.map((b, j) =>
                            j === i ? { ...b, item: { ...b.item, url: e.target.value } } : b,
                          ),
                        )
                      }
                      errors={errs(errors, `buttons[${i}].url`)}
                    />
                    <button
                      type="button"
                      className="btn btn-ghost"
                      onClick={() => setButtons((list) => list.filter((_, j) => j !== i))}
                    >
                      Remove button {i + 1}
                    </button>
                  </div>
                ))}
                <button
                  type="button"
                  className="btn btn-secondary"
                  disabled={!hydrated || buttons.length >= 3}
                  onClick={() =>
                    setButtons((list) => [...list, { key: ++nextKey, item: { text: "", url: "" } }])
                  }
                >
                  Add button
                </button>
                <p className="field-hint">
                  Buttons open a link; they cannot use variables. (They are kept with the template;
                  sending them is not supported by the delivery engine yet.)
                </p>
              </fieldset>
              <AiWriter
                action={ai.action}
                configured={ai.configured}
                channel="telegram"
                lockChannel
                onUse={(value) => setText(escapeHtml(value, { quotes: false }))}
              />
            </Card>
          ) : null}

          {readOnly ? null : (
            <div className="filters-actions">
              <Button type="submit" disabled={busy}>
                {busy ? "Saving…" : submitLabel}
              </Button>
              <ButtonLink to={cancelTo}>Cancel</ButtonLink>
              {children}
            </div>
          )}
        </fieldset>
      </Form>
      <VariableList variables={variables} onInsert={onInsert} targetLabel={insert.targetLabel} />
    </div>
  );
}

function newBlock(type: BlockType): BlockDraft {
  switch (type) {
    case "heading":
      return { type, text: "", level: "2" };
    case "paragraph":
      return { type, text: "" };
    case "button":
      return { type, text: "", url: "", color: "#1d4ed8" };
    case "image":
      return { type, src: "", alt: "", href: "", width: "" };
    case "divider":
      return { type };
  }
}

function BlockFields({
  index,
  count,
  block,
  errors,
  hydrated,
  onChange,
  onMove,
  onRemove,
}: {
  index: number;
  count: number;
  block: BlockDraft;
  errors: FieldErrorMap;
  hydrated: boolean;
  onChange: (patch: Partial<BlockDraft>) => void;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
}) {
  const n = index + 1;
  const name = (field: string) => `blocks[${index}].${field}`;
  const label = (what: string) => `Block ${n} ${what}`;
  const field = (key: keyof BlockDraft) => ({
    name: name(key),
    value: block[key] ?? "",
    errors: errs(errors, name(key)),
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) =>
      onChange({ [key]: e.target.value }),
  });
  const blockErrors = errs(errors, `blocks[${index}]`) ?? errs(errors, name("type"));
  return (
    <fieldset className="card" style={{ marginBottom: "var(--space-3, 0.75rem)" }}>
      <legend>
        Block {n}: {BLOCK_LABELS[block.type]}
      </legend>
      <input type="hidden" name={name("type")} value={block.type} />
      {blockErrors ? <p className="field-error">{blockErrors.join(" ")}</p> : null}
      {block.type === "heading" ? (
        <>
          <Field
            label={label("heading text")}
            data-variables="yes"
            maxLength={300}
            {...field("text")}
          />
          <div className="field">
            <label htmlFor={`block-${index}-level`}>{label("size")}</label>
            <select
              id={`block-${index}-level`}
              name={name("level")}
              value={block.level || "2"}
              onChange={(e) => onChange({ level: e.target.value })}
            >
              <option value="1">Large (title)</option>
              <option value="2">Medium</option>
              <option value="3">Small</option>
            </select>
          </div>
        </>
      ) : null}
      {block.type === "paragraph" ? (
        <TextAreaField label={label("text")} rows={5} data-variables="yes" {...field("text")} />
      ) : null}
      {block.type === "button" ? (
        <>
          <Field
            label={label("button text")}
            data-variables="yes"
            maxLength={80}
            {...field("text")}
          />
          <Field
            label={label("button link")}
            type="url"
            placeholder="https://"
            data-variables="yes"
            {...field("url")}
          />
          <Field
            label={label("button colour")}
            type="color"
            {...field("color")}
            value={block.color || "#1d4ed8"}
          />
        </>
      ) : null}
      {block.type === "image" ? (
        <>
          <Field
            label={label("image address")}
            type="url"
            placeholder="https://"
            hint="A public https:// address of the picture."
            {...field("src")}
          />
          <Field
            label={label("image description")}
            hint="Shown when images are off, and read out by screen readers."
            {...field("alt")}
          />
          <Field
            label={label("image link (optional)")}
            type="url"
            placeholder="https://"
            {...field("href")}
          />
          <Field
            label={label("image width in pixels (optional)")}
            type="number"
            min={16}
            max={600}
            inputMode="numeric"
            {...field("width")}
          />
        </>
      ) : null}
      {block.type === "divider" ? <p className="muted">A thin line between sections.</p> : null}
      <div className="page-actions">
        <button
          type="button"
          className="btn btn-ghost"
          disabled={!hydrated || index === 0}
          onClick={() => onMove(-1)}
        >
          Move up<span className="visually-hidden"> block {n}</span>
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          disabled={!hydrated || index === count - 1}
          onClick={() => onMove(1)}
        >
          Move down<span className="visually-hidden"> block {n}</span>
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          disabled={!hydrated || count === 1}
          onClick={onRemove}
        >
          Remove<span className="visually-hidden"> block {n}</span>
        </button>
      </div>
    </fieldset>
  );
}
