import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { CampaignSteps } from "~/components/campaign-steps";
import { Checkbox, FormErrors, RadioGroup, Select, useFormResult } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field, FieldNotes } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import { getCampaign } from "~/domain/campaigns/campaigns.server";
import {
  AB_METRIC_LABELS,
  AB_METRICS,
  isWizardStep,
  readAnswers,
  STEP_FIELDS,
  stepUrl,
  WIZARD_STEP_LABELS,
  WIZARD_STEPS,
  type WizardAnswers,
  type WizardStep,
} from "~/lib/campaign-wizard";
import {
  answersFromCampaign,
  firstIncompleteStep,
  saveDraft,
  wizardChoices,
  type WizardChoices,
} from "~/domain/campaigns/wizard.server";
import { ValidationError, type FieldErrors } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure, readIntent } from "~/lib/form.server";
import { fieldErrorsOf, formErrorOf, submittedOf } from "~/lib/form-result";
import { parseId } from "~/lib/ids";

/**
 * The new-campaign wizard: channel → audience → template → schedule, then the review. Each step
 * is a form the server validates; its answers travel in the next step's URL (so reload and Back
 * keep them) and in hidden fields. Nothing is stored until the last step makes the draft.
 * `?draft=<id>` edits a draft the same way (Edit on the review).
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.draftId ? "Edit campaign" : "New campaign"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** What a refused step sends back beside its errors: the step to show again and its choices. */
interface WizardExtra {
  step: WizardStep;
  choices: WizardChoices;
}

/** The wizard's two buttons; pressing Enter in a field means Next. */
const INTENTS = { next: true, back: true } as const;

async function wizardRequest(args: LoaderFunctionArgs) {
  const { workspace, wctx: ctx } = await requireWorkspace(args, "campaigns:write");
  const url = new URL(args.request.url);
  const draft = url.searchParams.get("draft");
  const draftId = draft === null ? null : parseId(draft, "Campaign");
  const base = `/w/${workspace.slug}/campaigns/new`;
  const urlFor = (step: WizardStep, answers: WizardAnswers) =>
    stepUrl(base, step, answers, draftId);
  return { workspace, ctx, url, draftId, urlFor };
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, ctx, url, draftId, urlFor } = await wizardRequest(args);
  const requested = url.searchParams.get("step");
  if (draftId !== null) {
    const campaign = getCampaign(ctx, draftId);
    const page = `/w/${workspace.slug}/campaigns/${draftId}`;
    if (campaign.status !== "draft") {
      throw await redirectWithFlash(page, "Only a draft can be changed.", "warning");
    }
    if (!isWizardStep(requested)) {
      throw redirect(urlFor("channel", answersFromCampaign(campaign, ctx.workspace.timeZone)));
    }
  }
  const step: WizardStep = isWizardStep(requested) ? requested : "channel";
  const answers = readAnswers(url.searchParams);
  // A step is reached only with the earlier ones answered (a hand-made URL goes back).
  const before = WIZARD_STEPS[WIZARD_STEPS.indexOf(step) - 1];
  const incomplete = before ? firstIncompleteStep(ctx, answers, before) : null;
  if (incomplete) throw redirect(urlFor(incomplete.step, answers));
  return {
    workspace: { name: workspace.name, slug: workspace.slug, timeZone: workspace.timezone },
    draftId,
    step,
    answers,
    choices: wizardChoices(ctx, answers),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, ctx, draftId, urlFor } = await wizardRequest(args);
  const form = await args.request.formData();
  const answers = readAnswers(form);
  const posted = form.get("step");
  const step: WizardStep = isWizardStep(posted) ? posted : "channel";
  const index = WIZARD_STEPS.indexOf(step);
  if (readIntent(form, INTENTS, "next") === "back") {
    return redirect(urlFor(WIZARD_STEPS[Math.max(0, index - 1)]!, answers));
  }
  const incomplete = firstIncompleteStep(ctx, answers, step);
  if (incomplete) {
    const message = "Check the answers marked below.";
    const error = new ValidationError(message, { ...incomplete.errors, "": [message] });
    return refuse(error, incomplete.step);
  }
  const next = WIZARD_STEPS[index + 1];
  if (next) return redirect(urlFor(next, answers));
  try {
    const campaign = saveDraft(ctx, answers, draftId ?? undefined);
    return redirect(`/w/${workspace.slug}/campaigns/${campaign.id}/review`);
  } catch (error) {
    return refuse(error, step);
  }

  /**
   * The step again, with the answers as typed; the whole-form message shows above the fields
   * marked with their own, and a refusal about the draft itself stays on the form too.
   */
  function refuse(error: unknown, at: WizardStep) {
    const cause =
      error instanceof ValidationError && Object.keys(error.fieldErrors).length > 0
        ? new ValidationError(error.message, { ...error.fieldErrors, "": [error.message] })
        : error;
    return formFailure<WizardExtra>(cause, {
      fields: answers,
      extra: { step: at, choices: wizardChoices(ctx, answers) },
      showForbidden: true,
    });
  }
}

/** Every answer that is not asked on this step, carried in hidden fields. */
function CarriedAnswers({ step, answers }: { step: WizardStep; answers: WizardAnswers }) {
  const own = new Set(STEP_FIELDS[step]);
  return (
    <>
      {Object.entries(answers)
        .filter(([field, value]) => !own.has(field) && value)
        .map(([field, value]) => (
          <input key={field} type="hidden" name={field} value={value} />
        ))}
    </>
  );
}

export default function CampaignWizardPage() {
  const loaded = useLoaderData<typeof loader>();
  const result = useFormResult<WizardExtra>();
  const busy = useNavigation().state === "submitting";
  const { workspace, draftId } = loaded;
  const step = result?.extra?.step ?? loaded.step;
  const choices = result?.extra?.choices ?? loaded.choices;
  const answers = result ? (submittedOf(result) as WizardAnswers) : loaded.answers;
  const errors: FieldErrors = fieldErrorsOf(result);
  const formError = formErrorOf(result);
  const base = `/w/${workspace.slug}/campaigns/new`;
  const hrefFor = (target: WizardStep) => stepUrl(base, target, answers, draftId);
  const index = WIZARD_STEPS.indexOf(step);
  const last = index === WIZARD_STEPS.length - 1;
  return (
    <>
      <PageHeader
        title={draftId ? "Edit campaign" : "New campaign"}
        description="Choose the channel, who gets it, what they get and when. The review then shows, before anything is sent, how many people it reaches, who is skipped and why, what it costs and how long it takes."
        actions={
          <ButtonLink
            to={
              draftId
                ? `/w/${workspace.slug}/campaigns/${draftId}`
                : `/w/${workspace.slug}/campaigns`
            }
          >
            {draftId ? "Back to the campaign" : "Back to campaigns"}
          </ButtonLink>
        }
      />
      <CampaignSteps current={step} hrefFor={hrefFor} />
      <Card title={`Step ${index + 1} of ${WIZARD_STEPS.length + 1}: ${WIZARD_STEP_LABELS[step]}`}>
        <Form method="post" action={draftId ? `${base}?draft=${draftId}` : base} noValidate>
          <input type="hidden" name="step" value={step} />
          <CarriedAnswers step={step} answers={answers} />
          <FormErrors errors={formError ? [formError] : undefined} />
          {step === "channel" ? (
            <ChannelStep answers={answers} errors={errors} choices={choices} />
          ) : null}
          {step === "audience" ? (
            <AudienceStep
              answers={answers}
              errors={errors}
              choices={choices}
              slug={workspace.slug}
            />
          ) : null}
          {step === "template" ? (
            <TemplateStep
              answers={answers}
              errors={errors}
              choices={choices}
              slug={workspace.slug}
            />
          ) : null}
          {step === "schedule" ? (
            <ScheduleStep answers={answers} errors={errors} timeZone={workspace.timeZone} />
          ) : null}
          <div className="filters-actions">
            {index > 0 ? (
              <Button type="submit" name="intent" value="back" variant="secondary" disabled={busy}>
                Back
              </Button>
            ) : null}
            <Button type="submit" name="intent" value="next" disabled={busy}>
              {last ? "Continue to review" : "Next"}
            </Button>
          </div>
        </Form>
      </Card>
    </>
  );
}

interface StepProps {
  answers: WizardAnswers;
  errors: FieldErrors;
  choices: WizardChoices;
}

function ChannelStep({ answers, errors, choices }: StepProps) {
  return (
    <>
      <Field
        label="Campaign name"
        name="name"
        defaultValue={answers.name ?? ""}
        maxLength={120}
        required
        errors={errors.name}
        hint="For you and your team; recipients never see it."
      />
      <RadioGroup
        name="channel"
        legend="Channel"
        value={answers.channel}
        errors={errors.channel}
        options={choices.channels.map((c) => ({
          value: c.value,
          label: c.label,
          hint: c.provider
            ? `Sends through ${c.provider}, up to ${c.ratePerSecond?.toLocaleString("en-US")} messages a second.`
            : "Sandbox: no account connected, nothing leaves Pleisys Engage.",
        }))}
      />
    </>
  );
}

function AudienceStep({ answers, errors, choices, slug }: StepProps & { slug: string }) {
  if (choices.audiences.length === 0) {
    return (
      <>
        <p>
          There is no segment or list to send to yet.{" "}
          <Link to={`/w/${slug}/segments/new`}>Build a segment</Link> or{" "}
          <Link to={`/w/${slug}/contacts/lists`}>make a list</Link>, then come back.
        </p>
        <FieldNotes errors={errors.audience} errorId="audience-error" />
      </>
    );
  }
  const size = (n: number | null) =>
    n === null ? "size counted on the review" : `${n.toLocaleString("en-US")} contacts`;
  return (
    <RadioGroup
      name="audience"
      legend="Send to"
      value={answers.audience}
      errors={errors.audience}
      options={choices.audiences.map((a) => ({
        value: a.value,
        label: `${a.kind === "segment" ? "Segment" : "List"}: ${a.label}`,
        hint: a.problem ?? `(${size(a.size)})`,
      }))}
    />
  );
}

function TemplateStep({ answers, errors, choices, slug }: StepProps & { slug: string }) {
  const options = [{ value: "", label: "Choose a template" }, ...choices.templates];
  const optional = [{ value: "", label: "None" }, ...choices.templates];
  return (
    <>
      {choices.templates.length === 0 ? (
        <p>
          This channel has no template that can be sent yet
          {choices.unsendable > 0
            ? ` (${choices.unsendable} waiting for approval or not ready)`
            : ""}
          . <Link to={`/w/${slug}/templates`}>Go to templates</Link>.
        </p>
      ) : null}
      <Select
        name="templateA"
        label="Template"
        options={options}
        defaultValue={answers.templateA ?? ""}
        errors={errors.templateA}
        hint={
          choices.unsendable > 0
            ? `Only templates that can be sent are listed; ${choices.unsendable} of this channel cannot be sent yet.`
            : undefined
        }
      />
      <fieldset className="field">
        <legend>A/B test (optional)</legend>
        <Checkbox
          name="abTest"
          label="Test 2 to 4 templates on a sample first, then send the winner to everyone else"
          defaultChecked={answers.abTest === "on"}
        />
        <p className="field-hint">The template above is variant A.</p>
        {(["B", "C", "D"] as const).map((key) => (
          <Select
            key={key}
            name={`template${key}`}
            label={`Variant ${key}${key === "B" ? "" : " (optional)"}`}
            options={optional}
            defaultValue={answers[`template${key}`] ?? ""}
            errors={errors[`template${key}`]}
          />
        ))}
        <Field
          label="Sample size (% of the audience)"
          name="samplePercent"
          type="number"
          min={2}
          max={50}
          inputMode="numeric"
          defaultValue={answers.samplePercent ?? "20"}
          errors={errors.samplePercent}
          hint="The variants share this sample equally; the rest get the winner."
        />
        <Select
          name="metric"
          label="Winner is the variant with the best"
          options={AB_METRICS.map((m) => ({ value: m, label: AB_METRIC_LABELS[m] }))}
          defaultValue={answers.metric ?? "clicked"}
          errors={errors.metric}
        />
        <Field
          label="Decide after (minutes)"
          name="decideAfterMinutes"
          type="number"
          min={15}
          max={10080}
          inputMode="numeric"
          defaultValue={answers.decideAfterMinutes ?? "120"}
          errors={errors.decideAfterMinutes}
          hint="From 15 minutes to 7 days (10,080 minutes)."
        />
      </fieldset>
    </>
  );
}

function ScheduleStep({
  answers,
  errors,
  timeZone,
}: {
  answers: WizardAnswers;
  errors: FieldErrors;
  timeZone: string;
}) {
  return (
    <>
      <RadioGroup
        name="when"
        legend="When"
        value={answers.when ?? "now"}
        errors={errors.when}
        options={[
          { value: "now", label: "Send now", hint: "As soon as you send it (or it is approved)." },
          {
            value: "at",
            label: "At a date and time",
            hint: `In the workspace's time zone, ${timeZone}.`,
          },
          {
            value: "local",
            label: "At a time in each contact's own time zone",
            hint: "From their time zone, else their phone's country, else the workspace's.",
          },
        ]}
      />
      <Field
        label="Date"
        name="date"
        type="date"
        defaultValue={answers.date ?? ""}
        errors={errors.date}
        hint="For a scheduled send."
      />
      <Field
        label="Time"
        name="time"
        type="time"
        defaultValue={answers.time ?? ""}
        errors={errors.time}
        hint="24-hour clock, e.g. 18:30."
      />
      <Field
        label="Throttle (messages per second, optional)"
        name="throttle"
        type="number"
        min={1}
        max={100000}
        inputMode="numeric"
        defaultValue={answers.throttle ?? ""}
        errors={errors.throttle}
        hint="Slower than the account's own rate, e.g. to spread replies. Leave blank for the account's rate."
      />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
