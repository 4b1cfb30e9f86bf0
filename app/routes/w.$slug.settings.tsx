import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { Checkbox, FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import { RETENTION } from "~/domain/privacy/retention-policy";
import { COUNTRY_CODES, countryName, timeZones } from "~/domain/workspaces/options";
import { updateWorkspaceSettings } from "~/domain/workspaces/workspaces.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Settings — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const CURRENCY_OPTIONS = [
  { value: "INR", label: "Indian rupee (INR)" },
  { value: "USD", label: "US dollar (USD)" },
];

const Settings = z.object({
  name: z
    .string({ error: "Enter a name for the workspace." })
    .trim()
    .min(1, "Enter a name for the workspace.")
    .max(80, "Use at most 80 characters."),
  country: z
    .string({ error: "Choose a country." })
    .trim()
    .regex(/^[A-Za-z]{2}$/, "Choose a country from the list."),
  timezone: z
    .string({ error: "Choose a time zone." })
    .trim()
    .min(1, "Choose a time zone.")
    .max(64, "Choose a time zone from the list."),
  currency: z.enum(["INR", "USD"], { error: "Choose INR or USD." }),
  // Unchecked boxes are not sent at all: absent means off.
  trackOpens: z.literal("on").optional(),
  trackClicks: z.literal("on").optional(),
  stopKeywords: z
    .string()
    .trim()
    .max(1000, "Keep the keywords under 1,000 characters.")
    .optional()
    .default(""),
});

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role } = await requireWorkspace(args, "workspace:settings");
  const zones = timeZones();
  if (!zones.includes(workspace.timezone)) zones.unshift(workspace.timezone);
  // Names come from the server's ICU data so the page renders the same on server and client.
  const countries = COUNTRY_CODES.map((code) => ({
    value: code,
    label: `${countryName(code)} (${code})`,
  })).sort((a, b) => a.label.localeCompare(b.label, "en"));
  return {
    workspace: {
      name: workspace.name,
      slug: workspace.slug,
      country: workspace.country,
      timezone: workspace.timezone,
      currency: workspace.currency,
      trackOpens: workspace.trackOpens,
      trackClicks: workspace.trackClicks,
      stopKeywords: workspace.stopKeywords.split(",").filter(Boolean).join(", "),
    },
    countries,
    canDelete: can(role, "ownership:transfer"),
    canManageInbox: can(role, "inbox:manage"),
    timeZones: zones.map((zone) => ({ value: zone, label: zone.replace(/_/g, " ") })),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "workspace:settings");
  const formData = await args.request.formData();
  return submitForm(formData, Settings, (value) => {
    updateWorkspaceSettings(wctx, workspace.id, {
      ...value,
      trackOpens: value.trackOpens === "on",
      trackClicks: value.trackClicks === "on",
    });
    return redirectWithFlash(`/w/${workspace.slug}/settings`, "Settings saved.");
  });
}

export default function WorkspaceSettingsPage() {
  const { workspace, countries, timeZones, canDelete, canManageInbox } =
    useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "workspace-settings",
    lastResult,
    defaultValue: {
      ...workspace,
      trackOpens: workspace.trackOpens ? "on" : undefined,
      trackClicks: workspace.trackClicks ? "on" : undefined,
    },
    onValidate: ({ formData }) => parseWithZod(formData, { schema: Settings }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  return (
    <>
      <PageHeader
        title="Workspace settings"
        description={`General settings for ${workspace.name}. Its address is /w/${workspace.slug}.`}
      />
      <Card title="General">
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label="Workspace name"
            hint="Shown to your team and in invitation emails."
            errors={fields.name.errors}
            {...getInputProps(fields.name, { type: "text" })}
          />
          <Select
            name={fields.country.name}
            label="Default country for phone numbers"
            hint="Phone numbers written without a country code (for example in an import) are read as numbers in this country."
            options={countries}
            defaultValue={String(fields.country.initialValue ?? workspace.country)}
            errors={fields.country.errors}
          />
          <Select
            name={fields.timezone.name}
            label="Time zone"
            hint="Schedules, reports and the audit log show times in this zone."
            options={timeZones}
            defaultValue={String(fields.timezone.initialValue ?? workspace.timezone)}
            errors={fields.timezone.errors}
          />
          <Select
            name={fields.currency.name}
            label="Currency"
            hint="Campaign cost estimates and the price table use this currency."
            options={CURRENCY_OPTIONS}
            defaultValue={String(fields.currency.initialValue ?? workspace.currency)}
            errors={fields.currency.errors}
          />
          <fieldset className="field">
            <legend>Email tracking</legend>
            <p className="field-hint">
              For marketing email only. Opens are counted with an invisible image, clicks by sending
              links through Pleisys Engage first. Views inside Pleisys Engage, mail security
              scanners, bots and prefetches are not counted. Some people and places expect you to
              ask before tracking: turn these off if you do not need them.
            </p>
            <Checkbox
              name={fields.trackOpens.name}
              label="Track opens"
              defaultChecked={fields.trackOpens.initialValue === "on"}
              errors={fields.trackOpens.errors}
            />
            <Checkbox
              name={fields.trackClicks.name}
              label="Track clicks"
              defaultChecked={fields.trackClicks.initialValue === "on"}
              errors={fields.trackClicks.errors}
            />
          </fieldset>
          <Field
            label="Opt-out keywords"
            hint={
              <>
                Extra words that unsubscribe someone who sends them on WhatsApp, SMS or Telegram,
                separated by commas. STOP, UNSUBSCRIBE, STOP ALL and रोकें always work.
              </>
            }
            autoComplete="off"
            placeholder="e.g. CANCEL, बंद करो"
            errors={fields.stopKeywords.errors}
            {...getInputProps(fields.stopKeywords, { type: "text" })}
          />
          <Button type="submit" disabled={navigation.state === "submitting"}>
            Save settings
          </Button>
        </Form>
      </Card>
      <Card title="Inbox">
        <ul>
          {canManageInbox ? (
            <>
              <li>
                <Link to={`/w/${workspace.slug}/settings/inbox`}>Inbox settings</Link>: reopening,
                auto-assignment, business hours and auto-reply, satisfaction survey, AI drafts.
              </li>
              <li>
                <Link to={`/w/${workspace.slug}/settings/teams`}>Teams and labels</Link>: who
                answers which conversations, agents&apos; caps, labels.
              </li>
            </>
          ) : null}
          <li>
            <Link to={`/w/${workspace.slug}/settings/canned-responses`}>Canned responses</Link>:
            saved replies with variables and attachments.
          </li>
          <li>
            <Link to={`/w/${workspace.slug}/settings/knowledge`}>Knowledge base</Link>: what AI
            reply drafts are written from.
          </li>
          <li>
            <Link to={`/w/${workspace.slug}/settings/ai`}>What the AI sees</Link>: what is sent to
            Claude, this month&apos;s usage, and how drafts were used.
          </li>
        </ul>
      </Card>
      {canDelete ? (
        <section className="card danger-zone" aria-labelledby="danger-zone-heading">
          <h2 id="danger-zone-heading" className="card-title">
            Danger zone
          </h2>
          <p>
            Deleting the workspace closes it for everyone at once; its data is erased for good
            within {RETENTION.deletedWorkspaceDays} days.
          </p>
          <ButtonLink variant="danger" to={`/w/${workspace.slug}/settings/delete`}>
            Delete workspace…
          </ButtonLink>
        </section>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
