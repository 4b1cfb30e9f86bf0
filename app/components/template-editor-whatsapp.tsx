import { Form } from "@remix-run/react";
import { useEffect, useState, type ChangeEvent } from "react";
import { AiWriter } from "./ai-writer";
import { FormErrors, Select } from "./form";
import { TextAreaField, type EditorVariable, type FieldErrorMap } from "./template-editor";
import { Alert } from "./ui/alert";
import { Button, ButtonLink } from "./ui/button";
import { Field, FieldNotes } from "./ui/field";
import { Card } from "./ui/layout";
import { WhatsAppBubble } from "./whatsapp-bubble";

/**
 * WhatsApp templates are Meta's: a new one is submitted for review (WhatsAppTemplateForm), an
 * existing one is shown as Meta has it and only its variable mapping is ours to edit
 * (WhatsAppTemplateDetails). Body variables are numbered {{1}}, {{2}}…; each is filled from a
 * contact field chosen here.
 */

export const WHATSAPP_BUTTON_TYPES = [
  { value: "QUICK_REPLY", label: "Quick reply" },
  { value: "URL", label: "Open a web page" },
  { value: "PHONE_NUMBER", label: "Call a phone number" },
] as const;

export interface WhatsAppButtonDraft {
  type: string;
  text: string;
  url: string;
  phoneNumber: string;
}

export interface WhatsAppDraft {
  name: string;
  language: string;
  category: string;
  /** NONE, TEXT, IMAGE, VIDEO or DOCUMENT. */
  headerFormat: string;
  headerText: string;
  headerMediaUrl: string;
  bodyText: string;
  footerText: string;
  buttons: WhatsAppButtonDraft[];
  examples: string[];
  variableMap: Record<string, string>;
}

export const EMPTY_WHATSAPP_DRAFT: WhatsAppDraft = {
  name: "",
  language: "en",
  category: "MARKETING",
  headerFormat: "NONE",
  headerText: "",
  headerMediaUrl: "",
  bodyText: "",
  footerText: "",
  buttons: [],
  examples: [],
  variableMap: {},
};

/** The form's values from a submitted input (WhatsAppTemplateInput's field names). */
export function whatsappDraft(source: Record<string, unknown>): WhatsAppDraft {
  const str = (value: unknown) => (typeof value === "string" ? value : "");
  return {
    name: str(source.name),
    language: str(source.language) || "en",
    category: str(source.category).toUpperCase() || "MARKETING",
    headerFormat:
      str(source.headerFormat).toUpperCase() || (str(source.headerText) ? "TEXT" : "NONE"),
    headerText: str(source.headerText),
    headerMediaUrl: str(source.headerMediaUrl),
    bodyText: str(source.bodyText),
    footerText: str(source.footerText),
    buttons: Array.isArray(source.buttons)
      ? (source.buttons as Record<string, unknown>[]).map((b) => ({
          type: str(b?.type) || "QUICK_REPLY",
          text: str(b?.text),
          url: str(b?.url),
          phoneNumber: str(b?.phoneNumber),
        }))
      : [],
    examples: Array.isArray(source.examples) ? source.examples.map(str) : [],
    variableMap:
      source.variableMap && typeof source.variableMap === "object"
        ? Object.fromEntries(
            Object.entries(source.variableMap as Record<string, unknown>).map(([k, v]) => [
              k,
              str(v),
            ]),
          )
        : {},
  };
}

/** The highest {{n}} in a body (its parameters are 1..n). */
export const WHATSAPP_HEADER_FORMATS = [
  { value: "NONE", label: "No header" },
  { value: "TEXT", label: "Text" },
  { value: "IMAGE", label: "Image" },
  { value: "VIDEO", label: "Video" },
  { value: "DOCUMENT", label: "Document (PDF)" },
] as const;

const MEDIA_NOUN: Record<string, string> = { IMAGE: "image", VIDEO: "video", DOCUMENT: "document" };

export function placeholderCount(body: string): number {
  let count = 0;
  for (const m of body.matchAll(/\{\{\s*(\d{1,3})\s*\}\}/g)) count = Math.max(count, Number(m[1]));
  return count;
}

const errs = (errors: FieldErrorMap, name: string) => errors[name] ?? undefined;

/** One select per {{n}}: the contact field that fills it. */
function VariableMapFields({
  count,
  map,
  variables,
  errors,
  onChange,
}: {
  count: number;
  map: Record<string, string>;
  variables: EditorVariable[];
  errors: FieldErrorMap;
  onChange?: (n: string, value: string) => void;
}) {
  if (count === 0) return <p className="muted">The body has no variables.</p>;
  const options = [
    { value: "", label: "Not mapped yet" },
    ...variables.map((v) => ({ value: v.key, label: `${v.label} (${v.key})` })),
  ];
  return (
    <>
      {Array.from({ length: count }, (_, i) => {
        const n = String(i + 1);
        const id = `variableMap-${n}`;
        const errorList = errs(errors, `variableMap.${n}`);
        return (
          <div className="field" key={n}>
            <label htmlFor={id}>{`Variable {{${n}}} is filled with`}</label>
            <select
              id={id}
              name={`variableMap.${n}`}
              value={map[n] ?? ""}
              onChange={(e) => onChange?.(n, e.target.value)}
              aria-invalid={errorList ? true : undefined}
              aria-describedby={errorList ? `${id}-error` : undefined}
            >
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
            <FieldNotes errors={errorList} errorId={errorList ? `${id}-error` : undefined} />
          </div>
        );
      })}
    </>
  );
}

export function WhatsAppTemplateForm({
  draft,
  errors = {},
  formError,
  action,
  variables,
  ai,
  connected,
  busy = false,
  cancelTo,
}: {
  draft: WhatsAppDraft;
  errors?: FieldErrorMap;
  formError?: string | null;
  action: string;
  variables: EditorVariable[];
  ai: { action: string; configured: boolean };
  /** A WhatsApp account is connected (templates are submitted through it). */
  connected: boolean;
  busy?: boolean;
  cancelTo: string;
}) {
  const [body, setBody] = useState(draft.bodyText);
  const [examples, setExamples] = useState(draft.examples);
  const [map, setMap] = useState(draft.variableMap);
  const [buttons, setButtons] = useState(draft.buttons);
  const [headerFormat, setHeaderFormat] = useState(draft.headerFormat);
  const [headerText, setHeaderText] = useState(draft.headerText);
  const [headerMediaUrl, setHeaderMediaUrl] = useState(draft.headerMediaUrl);
  const [footer, setFooter] = useState(draft.footerText);
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const count = placeholderCount(body);

  const setButton = (i: number, patch: Partial<WhatsAppButtonDraft>) =>
    setButtons((list) => list.map((b, j) => (j === i ? { ...b, ...patch } : b)));

  return (
    <Form method="post" action={action} noValidate aria-label="WhatsApp template">
      <input type="hidden" name="intent" value="submit" />
      <input type="hidden" name="channel" value="whatsapp" />
      {connected ? (
        <Alert tone="info" title="Submitted to Meta for review">
          Meta reviews every WhatsApp template, usually within minutes and sometimes up to a day. It
          shows as Pending until then; only approved templates can start a conversation.
        </Alert>
      ) : (
        <Alert tone="info" title="Sandbox: reviewed here, not by Meta">
          No WhatsApp account is connected, so this template goes to the sandbox. Its simulated
          review checks Meta&apos;s published template rules and, after a few seconds, approves it
          or rejects it with the reason. Campaigns with it run in the sandbox and reach nobody.
        </Alert>
      )}
      <FormErrors errors={formError ? [formError] : undefined} />
      <Card title="Template">
        <Field
          label="Name"
          name="name"
          defaultValue={draft.name}
          maxLength={512}
          pattern="[a-z0-9_]+"
          hint="Lower-case letters, digits and underscores, e.g. diwali_offer."
          errors={errs(errors, "name")}
          required
        />
        <Field
          label="Language code"
          name="language"
          defaultValue={draft.language}
          maxLength={10}
          hint="As Meta writes it: en, en_US, hi, ta…"
          errors={errs(errors, "language")}
          required
        />
        <Select
          name="category"
          label="Category"
          defaultValue={draft.category}
          options={[
            { value: "MARKETING", label: "Marketing (offers, announcements)" },
            { value: "UTILITY", label: "Utility (orders, accounts, reminders)" },
          ]}
          hint="Meta prices conversations by category. Authentication templates are made in WhatsApp Manager."
          errors={errs(errors, "category")}
        />
        <div className="field">
          <label htmlFor="wa-header-format">Header</label>
          <select
            id="wa-header-format"
            name="headerFormat"
            value={headerFormat}
            onChange={(e) => setHeaderFormat(e.target.value)}
          >
            {WHATSAPP_HEADER_FORMATS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
          {connected ? (
            <p className="field-hint">
              Image, video and document headers are made in WhatsApp Manager, where Meta takes the
              sample file; sync them here afterwards.
            </p>
          ) : null}
          <FieldNotes
            errors={errs(errors, "headerFormat")}
            errorId={errs(errors, "headerFormat") ? "wa-header-format-error" : undefined}
          />
        </div>
        {headerFormat === "TEXT" ? (
          <Field
            label="Header text"
            name="headerText"
            value={headerText}
            onChange={(e) => setHeaderText(e.target.value)}
            maxLength={60}
            hint="One line of text, no variables."
            errors={errs(errors, "headerText")}
          />
        ) : null}
        {MEDIA_NOUN[headerFormat] ? (
          <Field
            label={`Header ${MEDIA_NOUN[headerFormat]} link`}
            name="headerMediaUrl"
            type="url"
            value={headerMediaUrl}
            onChange={(e) => setHeaderMediaUrl(e.target.value)}
            placeholder="https://"
            hint={`The ${MEDIA_NOUN[headerFormat]}'s web address (https). It is the sample the review sees and what every message shows.`}
            errors={errs(errors, "headerMediaUrl")}
          />
        ) : null}
        <TextAreaField
          label="Body"
          name="bodyText"
          rows={6}
          maxLength={1024}
          value={body}
          onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setBody(e.target.value)}
          hint={`${body.length} / 1,024 characters. Variables are numbered: {{1}}, {{2}}… in order, not at the very start or end.`}
          errors={errs(errors, "bodyText")}
          required
        />
        <AiWriter
          action={ai.action}
          configured={ai.configured}
          channel="whatsapp"
          lockChannel
          onUse={setBody}
        />
        <Field
          label="Footer (optional)"
          name="footerText"
          value={footer}
          onChange={(e) => setFooter(e.target.value)}
          maxLength={60}
          hint='One line, e.g. "Reply STOP to opt out".'
          errors={errs(errors, "footerText")}
        />
      </Card>

      <Card title="Variables">
        <p className="field-hint">
          Meta reviews the template with a sample value for each variable; when sending, each is
          filled with the contact field you choose.
        </p>
        <FieldNotes
          errors={[...(errs(errors, "examples") ?? []), ...(errs(errors, "variableMap") ?? [])]}
          errorId={
            errs(errors, "examples") || errs(errors, "variableMap") ? "vars-error" : undefined
          }
        />
        {count === 0 ? <p className="muted">The body has no variables.</p> : null}
        {Array.from({ length: count }, (_, i) => (
          <Field
            key={i}
            label={`Sample value for {{${i + 1}}}`}
            name={`examples[${i}]`}
            value={examples[i] ?? ""}
            onChange={(e) =>
              setExamples((list) => {
                const next = [...list];
                next[i] = e.target.value;
                return next;
              })
            }
            maxLength={200}
            errors={errs(errors, `examples.${i + 1}`)}
          />
        ))}
        <VariableMapFields
          count={count}
          map={map}
          variables={variables}
          errors={errors}
          onChange={(n, value) => setMap((m) => ({ ...m, [n]: value }))}
        />
      </Card>

      <Card title="Buttons (optional)">
        <FieldNotes
          errors={errs(errors, "buttons")}
          errorId={errs(errors, "buttons") ? "wa-buttons-error" : undefined}
        />
        {buttons.length === 0 ? <p className="muted">No buttons.</p> : null}
        {buttons.map((button, i) => (
          <fieldset key={i} className="field">
            <legend>Button {i + 1}</legend>
            <FieldNotes
              errors={errs(errors, `buttons.${i + 1}`)}
              errorId={errs(errors, `buttons.${i + 1}`) ? `wa-button-${i}-error` : undefined}
            />
            <div className="field">
              <label htmlFor={`wa-button-${i}-type`}>Button {i + 1} kind</label>
              <select
                id={`wa-button-${i}-type`}
                name={`buttons[${i}].type`}
                value={button.type}
                onChange={(e) => setButton(i, { type: e.target.value })}
              >
                {WHATSAPP_BUTTON_TYPES.map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.label}
                  </option>
                ))}
              </select>
            </div>
            <Field
              label={`Button ${i + 1} label`}
              name={`buttons[${i}].text`}
              value={button.text}
              maxLength={25}
              onChange={(e) => setButton(i, { text: e.target.value })}
            />
            {button.type === "URL" ? (
              <Field
                label={`Button ${i + 1} web address`}
                name={`buttons[${i}].url`}
                type="url"
                value={button.url}
                placeholder="https://"
                onChange={(e) => setButton(i, { url: e.target.value })}
              />
            ) : null}
            {button.type === "PHONE_NUMBER" ? (
              <Field
                label={`Button ${i + 1} phone number`}
                name={`buttons[${i}].phoneNumber`}
                type="tel"
                value={button.phoneNumber}
                placeholder="+91…"
                onChange={(e) => setButton(i, { phoneNumber: e.target.value })}
              />
            ) : null}
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => setButtons((list) => list.filter((_, j) => j !== i))}
            >
              Remove button {i + 1}
            </button>
          </fieldset>
        ))}
        <button
          type="button"
          className="btn btn-secondary"
          disabled={!hydrated || buttons.length >= 10}
          onClick={() =>
            setButtons((list) => [
              ...list,
              { type: "QUICK_REPLY", text: "", url: "", phoneNumber: "" },
            ])
          }
        >
          Add button
        </button>
      </Card>

      <Card title="Preview">
        <p className="field-hint">As WhatsApp shows it, with the sample values.</p>
        <WhatsAppBubble
          content={{
            headerFormat,
            headerText,
            headerMediaUrl,
            body,
            footer,
            buttons: buttons.map((b) => ({ type: b.type, text: b.text })),
            samples: examples,
          }}
        />
      </Card>

      <div className="filters-actions">
        <Button type="submit" disabled={busy}>
          {busy
            ? "Submitting…"
            : connected
              ? "Submit to Meta for approval"
              : "Submit to the sandbox review"}
        </Button>
        <ButtonLink to={cancelTo}>Cancel</ButtonLink>
      </div>
    </Form>
  );
}

export interface WhatsAppComponentView {
  type: string;
  format?: string;
  text?: string;
  example?: { header_handle?: string[] };
  buttons?: { type?: string; text?: string; url?: string; phone_number?: string }[];
}

export const WHATSAPP_STATUS_LABELS: Record<string, string> = {
  approved: "Approved",
  pending: "Pending review",
  rejected: "Rejected",
  paused: "Paused",
  disabled: "Disabled",
  draft: "Draft",
  ready: "Ready",
};

const STATUS_TONES: Record<string, string> = {
  approved: "badge badge-success",
  pending: "badge badge-warning",
  paused: "badge badge-warning",
  rejected: "badge badge-danger",
  disabled: "badge badge-danger",
};

/** What each status means for sending, in a sentence. */
const STATUS_MEANING: Record<string, string> = {
  approved: "Can start conversations.",
  pending: "In review; it can be sent once approved.",
  rejected: "Cannot be sent.",
  paused: "Paused for low quality ratings; it cannot be sent until it is resumed.",
  disabled: "Cannot be sent.",
};

/**
 * A WhatsApp template's review status as one piece: the status, "Sandbox" when the sandbox
 * reviewed it, and the reason for a rejection (or why it is disabled).
 */
export function WhatsAppTemplateStatus({
  status,
  reason,
  sandbox,
  explain = false,
}: {
  status: string;
  reason: string | null;
  sandbox: boolean;
  /** Add what the status means for sending (the template's own page). */
  explain?: boolean;
}) {
  return (
    <span className="wa-status">
      <span className={STATUS_TONES[status] ?? "badge"}>
        {WHATSAPP_STATUS_LABELS[status] ?? status}
      </span>
      {sandbox ? (
        <span className="badge" title="Reviewed by the sandbox, not by Meta">
          Sandbox
        </span>
      ) : null}
      {reason ? (
        <span>
          {status === "rejected" ? "Reason: " : ""}
          {reason}
        </span>
      ) : null}
      {explain ? <span className="muted">{STATUS_MEANING[status] ?? ""}</span> : null}
    </span>
  );
}

/** An existing WhatsApp template as Meta has it, and the form for its variable mapping. */
export function WhatsAppTemplateDetails({
  template,
  variables,
  errors = {},
  formError,
  action,
  canWrite,
  busy = false,
}: {
  template: {
    name: string;
    language: string;
    category: string | null;
    status: string;
    statusReason: string | null;
    /** Reviewed by the sandbox (no WhatsApp account was connected). */
    sandbox: boolean;
    canStartConversation: boolean;
    components: WhatsAppComponentView[];
    variableMap: Record<string, string>;
    placeholders: number;
    synced: string | null;
  };
  variables: EditorVariable[];
  errors?: FieldErrorMap;
  formError?: string | null;
  action: string;
  canWrite: boolean;
  busy?: boolean;
}) {
  const [map, setMap] = useState(template.variableMap);
  const header = template.components.find((c) => c.type.toUpperCase() === "HEADER");
  const body = template.components.find((c) => c.type.toUpperCase() === "BODY");
  const footer = template.components.find((c) => c.type.toUpperCase() === "FOOTER");
  const buttons = template.components.find((c) => c.type.toUpperCase() === "BUTTONS")?.buttons;
  const unmapped = Array.from({ length: template.placeholders }, (_, i) => String(i + 1)).filter(
    (n) => !template.variableMap[n],
  );
  return (
    <>
      <Card title="Review">
        <p>
          <WhatsAppTemplateStatus
            status={template.status}
            reason={template.statusReason}
            sandbox={template.sandbox}
            explain
          />
        </p>
        {template.status === "rejected" || template.status === "disabled" ? (
          <p className="field-hint">
            {template.sandbox
              ? "Write a corrected template under a new name and submit it again."
              : "Edit it in WhatsApp Manager, then sync the templates."}
          </p>
        ) : null}
      </Card>
      <Card title={template.sandbox ? "As the sandbox has it" : "As Meta has it"}>
        <dl className="details-grid">
          <div>
            <dt>Category</dt>
            <dd>{template.category ?? "—"}</dd>
          </div>
          <div>
            <dt>Language</dt>
            <dd>
              <code>{template.language}</code>
            </dd>
          </div>
          {template.sandbox ? null : (
            <div>
              <dt>Last synced</dt>
              <dd>{template.synced ?? "Never"}</dd>
            </div>
          )}
        </dl>
        <WhatsAppBubble
          content={{
            headerFormat: header?.format ?? (header ? "TEXT" : undefined),
            headerText: header?.text,
            headerMediaUrl: header?.example?.header_handle?.[0],
            body: body?.text ?? "",
            footer: footer?.text,
            buttons: (buttons ?? []).map((b) => ({ type: b.type ?? "", text: b.text ?? "" })),
          }}
        />
        {buttons?.length ? (
          <>
            <h3>Buttons</h3>
            <ul>
              {buttons.map((b, i) => (
                <li key={i}>
                  {b.text}{" "}
                  <span className="muted">
                    ({b.type}
                    {b.url ? `: ${b.url}` : ""}
                    {b.phone_number ? `: +${b.phone_number}` : ""})
                  </span>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </Card>
      <Card title="Variables">
        <p className="field-hint">
          Which contact field fills each numbered variable of the body when a campaign sends this
          template.
          {unmapped.length
            ? ` Not mapped yet: ${unmapped.map((n) => `{{${n}}}`).join(", ")} (sent empty).`
            : null}
        </p>
        <Form method="post" action={action} noValidate aria-label="Variable mapping">
          <input type="hidden" name="intent" value="map" />
          <FormErrors errors={formError ? [formError] : undefined} />
          <fieldset disabled={!canWrite} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
            <legend className="visually-hidden">Variable mapping</legend>
            <VariableMapFields
              count={template.placeholders}
              map={map}
              variables={variables}
              errors={errors}
              onChange={(n, value) => setMap((m) => ({ ...m, [n]: value }))}
            />
            {canWrite && template.placeholders > 0 ? (
              <div className="filters-actions">
                <Button type="submit" disabled={busy}>
                  Save mapping
                </Button>
              </div>
            ) : null}
          </fieldset>
        </Form>
      </Card>
    </>
  );
}
