import { Form, Link } from "@remix-run/react";
import { FormErrors } from "./form";
import type { FieldErrorMap, SmsCount } from "./template-editor";
import { Alert } from "./ui/alert";
import { Button } from "./ui/button";
import { Field } from "./ui/field";
import { Card } from "./ui/layout";

/**
 * The saved template as one contact would get it (rendered on the server), the contact picker,
 * and "Send a test to yourself".
 */

export interface TemplatePreviewView {
  /** Whose values filled the variables. */
  contactLabel: string;
  email?: { subject: string; html: string; text: string };
  text?: string;
  sms?: SmsCount;
  telegramButtons?: { text: string; url: string }[];
  whatsapp?: { name: string; language: string; params: string[]; body: string };
}

export interface ContactPicker {
  q: string;
  /** The chosen contact, or null for the sample contact. */
  selected: number | null;
  options: { id: number; label: string }[];
}

export function TemplatePreview({
  preview,
  picker,
  action,
}: {
  preview: TemplatePreviewView;
  picker: ContactPicker;
  /** The page URL (the picker is a GET form). */
  action: string;
}) {
  return (
    <Card title="Preview">
      <Form method="get" action={action} className="filters" aria-label="Preview as a contact">
        <Field
          label="Find a contact"
          name="contactQ"
          type="search"
          defaultValue={picker.q}
          hint="A name, email or phone number; then choose below."
        />
        <div className="field">
          <label htmlFor="previewContact-select">Preview as</label>
          <select
            id="previewContact-select"
            name="previewContact"
            defaultValue={picker.selected === null ? "" : String(picker.selected)}
          >
            <option value="">Sample contact (Priya Sharma)</option>
            {picker.options.map((o) => (
              <option key={o.id} value={String(o.id)}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        <div className="filters-actions">
          <Button type="submit" variant="secondary">
            Show preview
          </Button>
        </div>
      </Form>
      <p className="field-hint">
        The saved version, as <strong>{preview.contactLabel}</strong> would get it. Save your
        changes to see them here.
      </p>
      {preview.email ? (
        <>
          <dl className="details-grid">
            <div>
              <dt>Subject</dt>
              <dd data-testid="preview-subject">{preview.email.subject}</dd>
            </div>
          </dl>
          <h3>HTML part</h3>
          {/* sandbox="": no scripts, forms, navigation or same-origin access. */}
          <iframe
            title="Email preview (HTML part)"
            sandbox=""
            srcDoc={preview.email.html}
            className="message-html"
          />
          <h3>Text part</h3>
          <pre className="message-preview">{preview.email.text}</pre>
        </>
      ) : null}
      {preview.text !== undefined ? (
        <pre className="message-preview" data-testid="preview-text">
          {preview.text}
        </pre>
      ) : null}
      {preview.sms ? (
        <p className="field-hint">
          This text: {preview.sms.characters} characters, {preview.sms.segments} segment
          {preview.sms.segments === 1 ? "" : "s"} ({preview.sms.encoding}).
        </p>
      ) : null}
      {preview.telegramButtons?.length ? (
        <ul aria-label="Buttons">
          {preview.telegramButtons.map((b, i) => (
            <li key={i}>
              {b.text} <span className="muted">→ {b.url}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {preview.whatsapp ? (
        <>
          <pre className="message-preview" data-testid="preview-text">
            {preview.whatsapp.body}
          </pre>
          <p className="field-hint">
            Sent as template <code>{preview.whatsapp.name}</code> ({preview.whatsapp.language})
            {preview.whatsapp.params.length
              ? ` with ${preview.whatsapp.params.length} body parameter${preview.whatsapp.params.length === 1 ? "" : "s"}.`
              : ", no parameters."}
          </p>
        </>
      ) : null}
    </Card>
  );
}

export function TestSendForm({
  channel,
  action,
  userEmail,
  previewContact,
  telegramContacts,
  errors = {},
  formError,
  blocked,
  busy = false,
  messagesUrl,
}: {
  channel: "email" | "sms" | "telegram" | "whatsapp";
  action: string;
  userEmail: string;
  previewContact: number | null;
  telegramContacts: { id: number; name: string }[];
  errors?: FieldErrorMap;
  formError?: string | null;
  /** Why a test cannot be sent at all (e.g. a WhatsApp template not approved). */
  blocked?: string | null;
  busy?: boolean;
  messagesUrl: string;
}) {
  return (
    <Card title="Send a test to yourself">
      <p className="field-hint">
        It goes through the outbox like any message, rendered as the preview contact, with “[Test]”
        before an email&apos;s subject. Without a connected account it stays in the{" "}
        <Link to={`${messagesUrl}?sandbox=1`}>sandbox</Link>. At most 10 tests in 10 minutes.
      </p>
      {blocked ? (
        <Alert tone="warning">{blocked}</Alert>
      ) : (
        <Form method="post" action={action} noValidate aria-label="Send a test">
          <input type="hidden" name="intent" value="test" />
          <input
            type="hidden"
            name="previewContact"
            value={previewContact === null ? "" : String(previewContact)}
          />
          <FormErrors errors={formError ? [formError] : undefined} />
          {channel === "email" ? (
            <p>
              To your address: <strong>{userEmail}</strong>
            </p>
          ) : null}
          {channel === "sms" || channel === "whatsapp" ? (
            <Field
              label="Your phone number"
              name="phone"
              type="tel"
              autoComplete="tel"
              placeholder="+91 98765 43210"
              hint="With the country code, or a number in the workspace's country."
              errors={errors.phone ?? undefined}
              required
            />
          ) : null}
          {channel === "telegram" ? (
            telegramContacts.length ? (
              <div className="field">
                <label htmlFor="telegramContactId-select">Send to (linked to the bot)</label>
                <select
                  id="telegramContactId-select"
                  name="telegramContactId"
                  aria-invalid={errors.telegramContactId ? true : undefined}
                  aria-describedby={
                    errors.telegramContactId ? "telegramContactId-error" : undefined
                  }
                >
                  {telegramContacts.map((c) => (
                    <option key={c.id} value={String(c.id)}>
                      {c.name}
                    </option>
                  ))}
                </select>
                {errors.telegramContactId ? (
                  <p id="telegramContactId-error" className="field-error">
                    {errors.telegramContactId.join(" ")}
                  </p>
                ) : null}
              </div>
            ) : (
              <Alert tone="info" title="Nobody has linked the Telegram bot yet">
                A bot cannot message anyone first. Open your own contact (or add yourself as a
                contact), use “Telegram link” on its page and press Start in Telegram; then you can
                send tests here.
              </Alert>
            )
          ) : null}
          {channel !== "telegram" || telegramContacts.length ? (
            <div className="filters-actions">
              <Button type="submit" variant="secondary" disabled={busy}>
                {busy ? "Sending…" : "Send test"}
              </Button>
            </div>
          ) : null}
        </Form>
      )}
    </Card>
  );
}
