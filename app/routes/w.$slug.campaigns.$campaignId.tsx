import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import {
  Form,
  Link,
  useFetcher,
  useLoaderData,
  useNavigation,
  useRevalidator,
} from "@remix-run/react";
import { useEffect } from "react";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { CampaignProgressBar } from "~/components/campaign-steps";
import { queryAnalytics } from "~/domain/analytics/analytics-worker.server";
import { FormErrors, useFormResult } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  approveCampaign,
  cancelCampaign,
  deleteCampaign,
  getCampaign,
  pauseCampaign,
  resumeCampaign,
} from "~/domain/campaigns/campaigns.server";
import { summariseProgress, type ProgressSummary } from "~/domain/campaigns/progress";
import { describeSchedule } from "~/domain/campaigns/wizard.server";
import { listGroups } from "~/domain/contacts/groups.server";
import { getSegment } from "~/domain/segments/segments.server";
import { integrationById } from "~/domain/delivery/integrations.server";
import { PROVIDER_LABELS } from "~/domain/delivery/integration-fields";
import { getTemplate } from "~/domain/templates/templates.server";
import { listMembers } from "~/domain/workspaces/workspaces.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { NotFoundError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";
import { CAMPAIGN_STATUS_LABELS, CampaignStatusBadge } from "~/components/campaign-status";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.campaign.name ?? "Campaign"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const CONFIRMS = ["cancel", "delete"] as const;

function nameOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof NotFoundError) return fallback;
    throw error;
  }
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "campaigns:read");
  const id = parseId(args.params.campaignId, "Campaign");
  const campaign = getCampaign(wctx, id);
  const tz = workspace.timezone;
  const confirm = new URL(args.request.url).searchParams.get("confirm");
  const members = new Map(listMembers(workspace.id).map((m) => [m.userId, m.name]));
  const who = (userId: string | null) =>
    userId === null ? null : (members.get(userId) ?? "A former member");
  const when = (date: Date | null) => (date ? formatDateTime(date, tz) : null);
  const audience =
    campaign.audience.type === "segment"
      ? {
          label: `Segment: ${nameOr(() => getSegment(wctx, campaign.audience.id).name, "(deleted)")}`,
          href: `/w/${workspace.slug}/segments/${campaign.audience.id}`,
        }
      : {
          label: `List: ${listGroups(wctx, "list", { counts: false }).find((l) => l.id === campaign.audience.id)?.name ?? "(deleted)"}`,
          href: `/w/${workspace.slug}/contacts?list=${campaign.audience.id}`,
        };
  const integration = campaign.integrationId
    ? integrationById(workspace.id, campaign.integrationId)
    : null;
  const canApprove = can(role, "campaigns:approve");
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canWrite: can(role, "campaigns:write"),
    approval:
      campaign.status !== "pending_approval"
        ? null
        : !canApprove
          ? ("not-admin" as const)
          : campaign.createdBy === wctx.userId
            ? ("creator" as const)
            : ("can-approve" as const),
    confirm: (CONFIRMS as readonly string[]).includes(confirm ?? "")
      ? (confirm as (typeof CONFIRMS)[number])
      : null,
    campaign: {
      id,
      name: campaign.name,
      status: campaign.status,
      channel: CHANNEL_LABELS[campaign.channel],
      sendsThrough: integration
        ? PROVIDER_LABELS[integration.provider]
        : campaign.integrationId
          ? "An account that was disconnected"
          : "The sandbox (nothing leaves Pleisys Engage)",
      schedule: describeSchedule(campaign, tz),
      throttle: campaign.throttlePerSecond,
      audience,
      eligible: campaign.review?.eligible ?? null,
      variants: campaign.variants.map((v) => ({
        key: v.key,
        templateId: v.templateId,
        name: nameOr(() => getTemplate(wctx, v.templateId).name, "(deleted template)"),
      })),
      abTest: campaign.abTest,
      winner: campaign.winner,
      error: campaign.error,
      createdBy: who(campaign.createdBy),
      created: when(campaign.createdAt)!,
      approvedBy: who(campaign.approvedBy),
      approved: when(campaign.approvedAt),
      started: when(campaign.startedAt),
      finished: when(campaign.finishedAt),
    },
    progress: summariseProgress(await queryAnalytics("campaignProgress", wctx.workspace, id)),
  };
}

const NEEDS = {
  pause: "campaigns:write",
  resume: "campaigns:write",
  cancel: "campaigns:write",
  delete: "campaigns:write",
  approve: "campaigns:approve",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx: ctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const id = parseId(args.params.campaignId, "Campaign");
  const page = `/w/${workspace.slug}/campaigns/${id}`;
  try {
    switch (intent) {
      case "pause": {
        const { held } = pauseCampaign(ctx, id);
        return redirectWithFlash(
          page,
          `Campaign paused; ${held.toLocaleString("en-US")} messages held.`,
        );
      }
      case "resume": {
        resumeCampaign(ctx, id);
        return redirectWithFlash(page, "Campaign resumed.");
      }
      case "cancel": {
        const { cancelled } = cancelCampaign(ctx, id);
        return redirectWithFlash(
          page,
          `Campaign cancelled; ${cancelled.toLocaleString("en-US")} queued messages will not be sent.`,
        );
      }
      case "approve": {
        approveCampaign(ctx, id);
        return redirectWithFlash(page, "Campaign approved: it goes out at its time.");
      }
      case "delete": {
        deleteCampaign(ctx, id);
        return redirectWithFlash(`/w/${workspace.slug}/campaigns`, "Draft deleted.");
      }
    }
  } catch (error) {
    return formFailure(error, { showForbidden: true });
  }
}

const COUNT_LABELS: [keyof ProgressSummary["counts"], string][] = [
  ["waiting", "Queued"],
  ["sent", "Sent"],
  ["delivered", "Delivered"],
  ["seen", "Read / opened"],
  ["clicked", "Clicked"],
  ["replied", "Replied"],
  ["failed", "Failed"],
  ["skipped", "Skipped"],
];

/** The numbers, refreshed every 2 s from the JSON route while the campaign runs. */
function LiveProgress({ url, initial }: { url: string; initial: ProgressSummary }) {
  const fetcher = useFetcher<ProgressSummary>();
  const { load } = fetcher;
  const { revalidate } = useRevalidator();
  const progress = fetcher.data ?? initial;
  const { running, status } = progress;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => load(url), 2000);
    return () => clearInterval(timer);
  }, [running, load, url]);
  // The rest of the page (status, buttons) follows once the status changes.
  useEffect(() => {
    if (status !== initial.status) revalidate();
  }, [status, initial.status, revalidate]);
  return (
    <Card title="Progress">
      <CampaignProgressBar percent={progress.percent} label="Campaign progress" />
      <p>
        <strong>{progress.percent}%</strong> done
        {progress.status === "queuing" || (running && progress.queued < progress.audience) ? (
          <>
            {" · "}
            <span data-testid="queuing">
              {progress.queued.toLocaleString("en-US")} of{" "}
              {progress.audience.toLocaleString("en-US")} queued
            </span>
          </>
        ) : null}
        {running ? <span className="muted"> · updates every 2 seconds</span> : null}
      </p>
      <table className="table">
        <caption className="visually-hidden">Messages by outcome</caption>
        <tbody>
          {COUNT_LABELS.map(([key, label]) => (
            <tr key={key}>
              <th scope="row">{label}</th>
              <td data-testid={`count-${key}`}>{progress.counts[key].toLocaleString("en-US")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

export default function CampaignPage() {
  const { workspace, canWrite, approval, confirm, campaign, progress } =
    useLoaderData<typeof loader>();
  const result = useFormResult();
  const busy = useNavigation().state === "submitting";
  const base = `/w/${workspace.slug}/campaigns`;
  const page = `${base}/${campaign.id}`;
  const status = campaign.status;
  const draft = status === "draft";
  const canPause = ["scheduled", "queuing", "sending", "testing"].includes(status);
  const ended = ["completed", "cancelled", "failed"].includes(status);
  return (
    <>
      <PageHeader
        title={
          <>
            {campaign.name} <CampaignStatusBadge status={status} />
          </>
        }
        description={
          <>
            <Link to={base}>Campaigns</Link> · {campaign.channel} campaign
          </>
        }
        actions={
          <>
            {!draft ? <ButtonLink to={`${page}/report`}>Report</ButtonLink> : null}
            {draft && canWrite ? (
              <ButtonLink to={`${page}/review`} variant="primary">
                Review and send
              </ButtonLink>
            ) : null}
          </>
        }
      />
      <FormErrors errors={result?.error?.[""] ?? undefined} />

      {confirm === "cancel" && canWrite && !ended ? (
        <section className="card danger-zone" aria-labelledby="cancel-heading">
          <h2 id="cancel-heading" className="card-title">
            Cancel this campaign?
          </h2>
          <p>
            Messages not yet handed to the provider are not sent; those already sent stay sent. A
            cancelled campaign cannot be resumed.
          </p>
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="cancel" />
            <Button variant="danger" type="submit" disabled={busy}>
              Cancel campaign
            </Button>
            <ButtonLink to={page}>Keep it</ButtonLink>
          </Form>
        </section>
      ) : null}
      {confirm === "delete" && canWrite && draft ? (
        <section className="card danger-zone" aria-labelledby="delete-heading">
          <h2 id="delete-heading" className="card-title">
            Delete this draft?
          </h2>
          <p>The draft and its settings are removed. Nothing was sent.</p>
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="delete" />
            <Button variant="danger" type="submit" disabled={busy}>
              Delete draft
            </Button>
            <ButtonLink to={page}>Keep it</ButtonLink>
          </Form>
        </section>
      ) : null}

      {approval ? (
        <Card title="Waiting for approval">
          {approval === "can-approve" ? (
            <>
              <p>
                It reaches {campaign.eligible?.toLocaleString("en-US")} people, above the
                workspace's limit for sending without a second admin. Check it, then approve.
              </p>
              <Form method="post" action={page} className="inline-form">
                <input type="hidden" name="intent" value="approve" />
                <Button type="submit" disabled={busy}>
                  Approve campaign
                </Button>
              </Form>
            </>
          ) : approval === "creator" ? (
            <Alert tone="info">
              You created this campaign, so you cannot approve it: another owner or admin of the
              workspace must (four eyes).
            </Alert>
          ) : (
            <p>An owner or admin other than its creator must approve it before it is sent.</p>
          )}
        </Card>
      ) : null}

      {!draft ? <LiveProgress url={`${page}/progress`} initial={progress} /> : null}

      <Card title="Details">
        <dl className="details-grid">
          <dt>Status</dt>
          <dd>{CAMPAIGN_STATUS_LABELS[status]}</dd>
          {campaign.error ? (
            <>
              <dt>Problem</dt>
              <dd>{campaign.error}</dd>
            </>
          ) : null}
          <dt>Sends through</dt>
          <dd>{campaign.sendsThrough}</dd>
          <dt>When</dt>
          <dd>{campaign.schedule}</dd>
          {campaign.throttle ? (
            <>
              <dt>Throttle</dt>
              <dd>{campaign.throttle.toLocaleString("en-US")} messages a second</dd>
            </>
          ) : null}
          <dt>Audience</dt>
          <dd>
            <Link to={campaign.audience.href}>{campaign.audience.label}</Link>
            {campaign.eligible !== null
              ? ` (${campaign.eligible.toLocaleString("en-US")} at the review)`
              : null}
          </dd>
          <dt>{campaign.variants.length > 1 ? "Templates" : "Template"}</dt>
          <dd>
            {campaign.variants.map((v, i) => (
              <span key={v.key}>
                {i > 0 ? ", " : null}
                {campaign.variants.length > 1 ? `${v.key}: ` : null}
                <Link to={`/w/${workspace.slug}/templates/${v.templateId}`}>{v.name}</Link>
              </span>
            ))}
          </dd>
          {campaign.abTest ? (
            <>
              <dt>A/B test</dt>
              <dd>
                {campaign.abTest.samplePercent}% sample, winner by {campaign.abTest.metric} rate
                after {campaign.abTest.decideAfterMinutes} minutes
              </dd>
              <dt>Winner</dt>
              <dd>{campaign.winner ? `Variant ${campaign.winner}` : "Not decided yet"}</dd>
            </>
          ) : null}
          <dt>Created</dt>
          <dd>
            {campaign.created}
            {campaign.createdBy ? ` by ${campaign.createdBy}` : ""}
          </dd>
          {campaign.approved ? (
            <>
              <dt>Approved</dt>
              <dd>
                {campaign.approved}
                {campaign.approvedBy ? ` by ${campaign.approvedBy}` : ""}
              </dd>
            </>
          ) : null}
          {campaign.started ? (
            <>
              <dt>Started</dt>
              <dd>{campaign.started}</dd>
            </>
          ) : null}
          {campaign.finished ? (
            <>
              <dt>Finished</dt>
              <dd>{campaign.finished}</dd>
            </>
          ) : null}
        </dl>
      </Card>

      {canWrite && !ended ? (
        <div className="filters-actions">
          {canPause ? (
            <Form method="post" action={page} className="inline-form">
              <input type="hidden" name="intent" value="pause" />
              <Button type="submit" variant="secondary" disabled={busy}>
                Pause
              </Button>
            </Form>
          ) : null}
          {status === "paused" ? (
            <Form method="post" action={page} className="inline-form">
              <input type="hidden" name="intent" value="resume" />
              <Button type="submit" disabled={busy}>
                Resume
              </Button>
            </Form>
          ) : null}
          {draft ? (
            <ButtonLink to={`${page}?confirm=delete`} variant="danger">
              Delete draft
            </ButtonLink>
          ) : (
            <ButtonLink to={`${page}?confirm=cancel`} variant="danger">
              Cancel campaign
            </ButtonLink>
          )}
        </div>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
