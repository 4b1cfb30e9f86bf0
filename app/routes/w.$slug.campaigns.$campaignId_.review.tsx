import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { CampaignSteps } from "~/components/campaign-steps";
import { FormErrors, useFormResult } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  approvalThreshold,
  getCampaign,
  submitCampaign,
} from "~/domain/campaigns/campaigns.server";
import { SKIP_LABELS, SKIP_REASONS } from "~/domain/campaigns/review.server";
import { stepUrl } from "~/lib/campaign-wizard";
import {
  answersFromCampaign,
  describeSchedule,
  reviewDraft,
  templateProblems,
} from "~/domain/campaigns/wizard.server";
import { getTemplate } from "~/domain/templates/templates.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure } from "~/lib/form.server";
import { resultMessages } from "~/lib/form-result";
import { parseId } from "~/lib/ids";

/**
 * The review, before anything is queued: audience size, who is skipped and why, the cost per
 * country in the workspace's currency, the time the send takes at the account's rate (or the
 * throttle), and whether a second admin must approve it. "Send" submits exactly this review.
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `Review ${data?.campaign.name ?? "campaign"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

function formatMoney(minor: number, currency: string): string {
  return new Intl.NumberFormat(currency === "INR" ? "en-IN" : "en-US", {
    style: "currency",
    currency,
  }).format(minor / 100);
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `about ${hours} hours${rest ? ` ${rest} minutes` : ""}`;
}

function templateName(ctx: Parameters<typeof getTemplate>[0], id: number): string {
  try {
    return getTemplate(ctx, id).name;
  } catch (error) {
    if (error instanceof NotFoundError) return "(deleted template)";
    throw error;
  }
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx: ctx, role } = await requireWorkspace(args, "campaigns:read");
  const id = parseId(args.params.campaignId, "Campaign");
  let campaign = getCampaign(ctx, id);
  const page = `/w/${workspace.slug}/campaigns/${id}`;
  if (campaign.status !== "draft") throw redirect(page);
  const canWrite = can(role, "campaigns:write");
  const problems = templateProblems(ctx, campaign);
  // Reviewing stores the numbers with the draft (what is sent is what was seen); a viewer
  // sees the last stored review.
  const review = canWrite ? reviewDraft(ctx, campaign) : campaign.review;
  campaign = getCampaign(ctx, id);
  const threshold = approvalThreshold(workspace.id);
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canWrite,
    problems,
    threshold,
    needsApproval: Boolean(review && threshold !== null && review.eligible > threshold),
    editUrl: stepUrl(
      `/w/${workspace.slug}/campaigns/new`,
      "channel",
      answersFromCampaign(campaign, workspace.timezone),
      id,
    ),
    campaign: {
      id,
      name: campaign.name,
      channel: CHANNEL_LABELS[campaign.channel],
      schedule: describeSchedule(campaign, workspace.timezone),
      scheduled: campaign.schedule.type !== "now",
      variants: campaign.variants.map((v) => ({
        key: v.key,
        name: templateName(ctx, v.templateId),
      })),
      abTest: campaign.abTest,
    },
    review: review
      ? {
          audience: review.audience,
          eligible: review.eligible,
          skipped: SKIP_REASONS.filter((r) => (review.skipped[r] ?? 0) > 0).map((r) => ({
            reason: r,
            label: SKIP_LABELS[r],
            count: review.skipped[r]!,
          })),
          currency: review.cost.currency,
          total: formatMoney(review.cost.totalMinor, review.cost.currency),
          lines: review.cost.lines.map((l) => ({
            ...l,
            country: l.country === "*" ? "Other countries" : l.country,
            unitPrice: formatMoney(l.unitPriceMinor, review.cost.currency),
            total: formatMoney(l.totalMinor, review.cost.currency),
          })),
          duration: formatDuration(review.durationSeconds),
          ratePerSecond: review.ratePerSecond,
          sandbox: review.sandbox,
        }
      : null,
  };
}

const NEEDS = { send: "campaigns:write" } as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx: ctx } = await requireWorkspaceIntent(args, formData, NEEDS);
  const id = parseId(args.params.campaignId, "Campaign");
  try {
    const problems = templateProblems(ctx, getCampaign(ctx, id));
    if (problems.length > 0) throw new ValidationError(problems.join(" "));
    const campaign = submitCampaign(ctx, id);
    const message =
      campaign.status === "pending_approval"
        ? "Submitted for approval: another owner or admin must approve it before it is sent."
        : campaign.schedule.type === "now"
          ? "Campaign sent: it is being queued now."
          : "Campaign scheduled.";
    return redirectWithFlash(`/w/${workspace.slug}/campaigns/${id}`, message);
  } catch (error) {
    // A refusal about this campaign (approving one's own) stays on the review, beside Send.
    return formFailure(error, { showForbidden: true });
  }
}

export default function CampaignReviewPage() {
  const { workspace, canWrite, problems, needsApproval, threshold, editUrl, campaign, review } =
    useLoaderData<typeof loader>();
  const result = useFormResult();
  const busy = useNavigation().state === "submitting";
  const base = `/w/${workspace.slug}/campaigns`;
  return (
    <>
      <PageHeader
        title={`Review: ${campaign.name}`}
        description="Nothing has been queued yet. Check the numbers, then send or go back and edit."
        actions={<ButtonLink to={`${base}/${campaign.id}`}>Campaign page</ButtonLink>}
      />
      {canWrite ? <CampaignSteps current="review" hrefFor={() => null} /> : null}
      <FormErrors errors={resultMessages(result)} />
      {problems.length > 0 ? (
        <Alert tone="error" title="This campaign cannot be sent yet">
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </Alert>
      ) : null}

      <Card title="What will be sent">
        <dl className="details-grid">
          <dt>Channel</dt>
          <dd>{campaign.channel}</dd>
          <dt>When</dt>
          <dd>{campaign.schedule}</dd>
          <dt>{campaign.variants.length > 1 ? "Templates" : "Template"}</dt>
          <dd>
            {campaign.variants
              .map((v) => (campaign.variants.length > 1 ? `${v.key}: ${v.name}` : v.name))
              .join(", ")}
          </dd>
          {campaign.abTest ? (
            <>
              <dt>A/B test</dt>
              <dd>
                {campaign.abTest.samplePercent}% sample, winner by {campaign.abTest.metric} rate
                after {campaign.abTest.decideAfterMinutes} minutes
              </dd>
            </>
          ) : null}
        </dl>
      </Card>

      {review ? (
        <>
          <Card title="Audience">
            <dl className="role-list">
              <dt>In the audience</dt>
              <dd data-testid="review-audience">{review.audience.toLocaleString("en-US")}</dd>
              <dt>Will receive it</dt>
              <dd data-testid="review-eligible">{review.eligible.toLocaleString("en-US")}</dd>
            </dl>
            {review.skipped.length > 0 ? (
              <table className="table">
                <caption>Skipped, and why</caption>
                <thead>
                  <tr>
                    <th scope="col">Reason</th>
                    <th scope="col">Contacts</th>
                  </tr>
                </thead>
                <tbody>
                  {review.skipped.map((s) => (
                    <tr key={s.reason} data-testid={`skip-${s.reason}`}>
                      <th scope="row">{s.label}</th>
                      <td>{s.count.toLocaleString("en-US")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>Nobody in the audience is skipped.</p>
            )}
          </Card>

          <Card title="Estimated cost">
            <p>
              <strong data-testid="review-cost">{review.total}</strong> ({review.currency}, from the
              workspace's price table)
            </p>
            {review.lines.length > 0 ? (
              <table className="table">
                <caption className="visually-hidden">Cost per country</caption>
                <thead>
                  <tr>
                    <th scope="col">Country</th>
                    <th scope="col">Priced per</th>
                    <th scope="col">Quantity</th>
                    <th scope="col">Unit price</th>
                    <th scope="col">Total</th>
                  </tr>
                </thead>
                <tbody>
                  {review.lines.map((l) => (
                    <tr key={`${l.country}-${l.unit}`}>
                      <th scope="row">{l.country}</th>
                      <td>{l.unit}</td>
                      <td>{l.quantity.toLocaleString("en-US")}</td>
                      <td>{l.unitPrice}</td>
                      <td>{l.total}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            {review.sandbox ? (
              <p className="field-hint">
                This channel runs in the sandbox: nothing leaves Pleisys Engage and nothing is
                charged. The estimate is what it would cost on a connected account.
              </p>
            ) : null}
          </Card>

          <Card title="Estimated duration">
            <p>
              <span data-testid="review-duration">{review.duration}</span> at{" "}
              {review.ratePerSecond.toLocaleString("en-US")} messages a second
              {campaign.scheduled ? ", from the scheduled time" : ""}.
            </p>
          </Card>

          <Card title="Approval">
            {needsApproval ? (
              <Alert tone="warning" title="Needs approval">
                This campaign reaches more than {threshold?.toLocaleString("en-US")} people, the
                workspace's limit for sending without a second pair of eyes. Sending it submits it
                for approval by another owner or admin.
              </Alert>
            ) : (
              <p>No approval needed: it goes out {campaign.scheduled ? "at its time" : "now"}.</p>
            )}
          </Card>
        </>
      ) : problems.length === 0 ? (
        <Card title="Not reviewed yet">
          <p>Someone who can send campaigns has to open this review first.</p>
        </Card>
      ) : null}

      {canWrite ? (
        <Form method="post" className="filters-actions">
          <input type="hidden" name="intent" value="send" />
          <Button type="submit" disabled={busy || !review || problems.length > 0}>
            {needsApproval
              ? "Submit for approval"
              : campaign.scheduled
                ? "Schedule"
                : "Send campaign"}
          </Button>
          <ButtonLink to={editUrl}>Edit</ButtonLink>
          <Link to={`${base}/${campaign.id}`}>Not now: keep it as a draft</Link>
        </Form>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
