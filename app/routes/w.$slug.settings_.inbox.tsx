import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { Checkbox, FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  InboxSettingsSchema,
  readInboxSettings,
  settingsToInput,
  updateInboxSettings,
  WEEKDAY_LABELS,
  WEEKDAYS,
} from "~/domain/inbox/inbox-settings.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { fieldErrorsOf, formErrorOf, submittedOf, type FormResult } from "~/lib/form-result";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Inbox settings — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "inbox:manage");
  return {
    workspace: { name: workspace.name, slug: workspace.slug, timezone: workspace.timezone },
    settings: settingsToInput(readInboxSettings(wctx)),
    days: WEEKDAYS.map((d) => ({ key: d, label: WEEKDAY_LABELS[d] })),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "inbox:manage");
  const formData = await args.request.formData();
  return submitForm(formData, InboxSettingsSchema, (value) => {
    updateInboxSettings(wctx, value);
    return redirectWithFlash(`/w/${workspace.slug}/settings/inbox`, "Inbox settings saved.");
  });
}

export default function InboxSettingsPage() {
  const { workspace, settings, days } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as FormResult | undefined;
  const busy = useNavigation().state === "submitting";
  const errors = fieldErrorsOf(result);
  const sent = submittedOf(result);
  const typed = (name: string, fallback: string | number) =>
    result ? String(sent[name] ?? "") : String(fallback);
  const checked = (name: keyof typeof settings) =>
    result ? sent[name] === "on" : Boolean(settings[name]);
  const sentHours = (sent.hours ?? {}) as Record<string, string>;
  return (
    <>
      <PageHeader
        title="Inbox settings"
        description={
          <>
            How conversations are reopened, assigned and answered in {workspace.name}. Teams and
            labels are on <Link to={`/w/${workspace.slug}/settings/teams`}>Teams and labels</Link>.
          </>
        }
      />
      <Form method="post" noValidate>
        <FormErrors errors={formErrorOf(result) ? [formErrorOf(result)!] : undefined} />
        <Card title="Conversations">
          <Field
            label="Reopen a resolved conversation when the customer writes within (days)"
            name="reopenWithinDays"
            type="number"
            min={0}
            max={90}
            inputMode="numeric"
            defaultValue={typed("reopenWithinDays", settings.reopenWithinDays)}
            errors={errors.reopenWithinDays}
            hint="0 to 90. Later replies start a new conversation."
          />
        </Card>
        <Card title="Auto-assignment">
          <Checkbox
            name="autoAssign"
            label="Assign waiting conversations automatically, in turn, to online agents"
            defaultChecked={checked("autoAssign")}
            errors={errors.autoAssign}
          />
          <Field
            label="Conversations per agent at most"
            name="agentCapacity"
            type="number"
            min={1}
            max={100}
            inputMode="numeric"
            defaultValue={typed("agentCapacity", settings.agentCapacity)}
            errors={errors.agentCapacity}
            hint="1 to 100 unresolved conversations. An agent can have their own cap on Teams and labels. Conversations wait in order of arrival until someone has room."
          />
        </Card>
        <Card title="Business hours">
          <Checkbox
            name="businessHoursEnabled"
            label="Use business hours and send an auto-reply outside them"
            defaultChecked={checked("businessHoursEnabled")}
            errors={errors.businessHoursEnabled}
          />
          <p className="field-hint">
            Times are in the workspace&apos;s time zone, {workspace.timezone.replace(/_/g, " ")}.
            Write ranges like 09:00-13:00, 14:00-18:00; leave a day empty when closed.
          </p>
          {days.map((d) => (
            <Field
              key={d.key}
              label={d.label}
              name={`hours.${d.key}`}
              autoComplete="off"
              placeholder="Closed"
              defaultValue={result ? (sentHours[d.key] ?? "") : settings.hours[d.key]}
              errors={errors[`hours.${d.key}`]}
            />
          ))}
          <div className="field">
            <label htmlFor="outside-hours-reply">Auto-reply outside business hours</label>
            <textarea
              id="outside-hours-reply"
              name="outsideHoursReply"
              rows={3}
              maxLength={1000}
              defaultValue={typed("outsideHoursReply", settings.outsideHoursReply)}
              aria-invalid={errors.outsideHoursReply ? true : undefined}
            />
            <p className="field-hint">Sent at most once per conversation while you are closed.</p>
            {errors.outsideHoursReply ? (
              <p className="field-error">{errors.outsideHoursReply.join(" ")}</p>
            ) : null}
          </div>
        </Card>
        <Card title="Satisfaction survey (CSAT)">
          <Checkbox
            name="csatEnabled"
            label="Ask one question after a conversation is resolved"
            defaultChecked={checked("csatEnabled")}
            errors={errors.csatEnabled}
          />
          <div className="field">
            <label htmlFor="csat-question">Question</label>
            <textarea
              id="csat-question"
              name="csatQuestion"
              rows={2}
              maxLength={300}
              defaultValue={typed("csatQuestion", settings.csatQuestion)}
              aria-invalid={errors.csatQuestion ? true : undefined}
            />
            <p className="field-hint">
              On WhatsApp it is only sent inside the 24-hour window. The customer&apos;s next
              message within 3 days is read as the score when it is 1 to 5.
            </p>
            {errors.csatQuestion ? (
              <p className="field-error">{errors.csatQuestion.join(" ")}</p>
            ) : null}
          </div>
        </Card>
        <Card title="AI reply suggestions">
          <Checkbox
            name="aiEnabled"
            label="Let agents ask for AI reply drafts"
            defaultChecked={checked("aiEnabled")}
            errors={errors.aiEnabled}
          />
          <Checkbox
            name="aiAutoDraft"
            label="Draft a reply automatically when a customer writes"
            defaultChecked={checked("aiAutoDraft")}
            errors={errors.aiAutoDraft}
          />
          <p className="field-hint">A draft is never sent until a person presses send.</p>
        </Card>
        <Button type="submit" disabled={busy}>
          Save inbox settings
        </Button>
      </Form>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
