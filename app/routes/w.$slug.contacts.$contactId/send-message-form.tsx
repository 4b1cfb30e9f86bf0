import { Form } from "@remix-run/react";
import { useEffect, useState, type ReactNode } from "react";
import { FormErrors, TextArea } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { CHANNEL_LABELS, type Channel } from "~/lib/channels";
import type { FormResult } from "~/lib/form-result";

/** The composer for a one-off service message: the chosen channel's fields only. */
export function SendMessageForm({
  page,
  channels,
  result,
  busy,
}: {
  page: string;
  channels: { value: Channel; label: string; sandbox: boolean }[];
  result: FormResult | undefined;
  busy: boolean;
}) {
  const initial = (result?.initialValue ?? {}) as Record<string, string | undefined>;
  const errors = result?.error ?? {};
  const err = (name: string) => errors[name] ?? undefined;
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const [channel, setChannel] = useState<Channel>(
    (channels.find((c) => c.value === initial.channel) ?? channels[0]!).value,
  );
  const [waType, setWaType] = useState(initial.whatsappType === "template" ? "template" : "text");
  // Without JavaScript every channel's fields show; the server reads the chosen channel's.
  const shown = (c: Channel) => !hydrated || channel === c;
  const has = (c: Channel) => channels.some((x) => x.value === c);
  const channelFields = (c: Channel, fields: ReactNode) =>
    has(c) ? (
      <fieldset className="field" hidden={!shown(c)} disabled={!shown(c)}>
        <legend>{CHANNEL_LABELS[c]}</legend>
        {fields}
      </fieldset>
    ) : null;
  return (
    <Form method="post" action={page} aria-label="Send a message">
      <input type="hidden" name="intent" value="send" />
      <FormErrors errors={errors[""] ?? undefined} />
      <div className="field">
        <label htmlFor="send-channel">Channel</label>
        <select
          id="send-channel"
          name="channel"
          defaultValue={channel}
          onChange={(e) => setChannel(e.currentTarget.value as Channel)}
          aria-describedby="send-channel-hint"
        >
          {channels.map((c) => (
            <option key={c.value} value={c.value}>
              {c.sandbox ? `${c.label} (sandbox)` : c.label}
            </option>
          ))}
        </select>
        <p id="send-channel-hint" className="field-hint">
          Only channels this contact has an address on. A sandbox channel keeps the message here and
          sends nothing.
        </p>
        {err("channel") ? <p className="field-error">{err("channel")!.join(" ")}</p> : null}
      </div>
      {channelFields(
        "email",
        <>
          <Field
            label="Subject"
            name="emailSubject"
            maxLength={200}
            defaultValue={initial.emailSubject ?? ""}
            errors={err("emailSubject")}
          />
          <TextArea
            label="Email text"
            name="emailBody"
            rows={6}
            defaultValue={initial.emailBody ?? ""}
            errors={err("emailBody")}
          />
        </>,
      )}
      {channelFields(
        "whatsapp",
        <>
          <div role="radiogroup" aria-label="WhatsApp message type" className="inline-form">
            <input
              id="wa-type-text"
              type="radio"
              name="whatsappType"
              value="text"
              defaultChecked={waType === "text"}
              onChange={() => setWaType("text")}
            />
            <label htmlFor="wa-type-text">Text (only within 24 hours of their last message)</label>
            <input
              id="wa-type-template"
              type="radio"
              name="whatsappType"
              value="template"
              defaultChecked={waType === "template"}
              onChange={() => setWaType("template")}
            />
            <label htmlFor="wa-type-template">Approved template</label>
          </div>
          {err("whatsappType") ? (
            <p className="field-error">{err("whatsappType")!.join(" ")}</p>
          ) : null}
          <div hidden={hydrated && waType !== "text"}>
            <TextArea
              label="WhatsApp text"
              name="whatsappText"
              maxLength={4096}
              defaultValue={initial.whatsappText ?? ""}
              errors={err("whatsappText")}
            />
          </div>
          <div hidden={hydrated && waType !== "template"}>
            <Field
              label="Template name"
              name="whatsappTemplate"
              autoComplete="off"
              spellCheck={false}
              defaultValue={initial.whatsappTemplate ?? ""}
              errors={err("whatsappTemplate")}
            />
            <Field
              label="Language code"
              name="whatsappLanguage"
              autoComplete="off"
              spellCheck={false}
              defaultValue={initial.whatsappLanguage ?? "en"}
              hint="As the template was approved: en, hi, en_US…"
              errors={err("whatsappLanguage")}
            />
            <TextArea
              label="Body parameters"
              name="whatsappParams"
              rows={3}
              defaultValue={initial.whatsappParams ?? ""}
              hint="One per line, in order: the first fills {{1}}, the second {{2}}, and so on."
              errors={err("whatsappParams")}
            />
          </div>
        </>,
      )}
      {channelFields(
        "sms",
        <>
          <TextArea
            label="SMS text"
            name="smsText"
            maxLength={1600}
            defaultValue={initial.smsText ?? ""}
            hint="160 characters fit one SMS (70 with Hindi or emoji); longer texts are split."
            errors={err("smsText")}
          />
        </>,
      )}
      {channelFields(
        "telegram",
        <>
          <TextArea
            label="Telegram text"
            name="telegramText"
            maxLength={4096}
            defaultValue={initial.telegramText ?? ""}
            errors={err("telegramText")}
          />
        </>,
      )}
      <Button type="submit" disabled={busy}>
        Send message
      </Button>
    </Form>
  );
}
