import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { recordReportViewed } from "~/domain/workspaces/onboarding.server";
import {
  ActivityOverTime,
  formatCount,
  formatLocalHour,
  formatRate,
  FunnelChart,
  StatGrid,
} from "~/components/charts";
import { ProviderErrorText } from "~/components/provider-error";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { queryAnalytics } from "~/domain/analytics/analytics-worker.server";
import { seenLabel } from "~/domain/analytics/campaign-report.server";
import { explainProviderError } from "~/domain/analytics/provider-error";
import { getCampaign } from "~/domain/campaigns/campaigns.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";
import { parseId } from "~/lib/ids";

/**
 * GET /w/<slug>/campaigns/<id>/report — what happened to a campaign: funnel, sends and
 * engagement per hour on the workspace's clock, failures by provider reason, clicks per link,
 * unsubscribes, bounces and complaints, the A/B variants, and the per-recipient CSV. Every
 * chart has a table of the same numbers beside it.
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: data
      ? `Report: ${data.report.campaign.name} — ${data.workspace.name} — Pleisys Engage`
      : "Campaign report — Pleisys Engage",
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "campaigns:read");
  const id = parseId(args.params.campaignId, "Campaign");
  const report = await queryAnalytics("campaignReport", wctx.workspace, id);
  // Ticks "See the report" on the home checklist; not an open, and counted nowhere else.
  recordReportViewed(wctx);
  const tz = workspace.timezone;
  return {
    workspace: { slug: workspace.slug, name: workspace.name, timezone: tz },
    canExport: can(role, "contacts:export"),
    // Sent without a connected account: the numbers are the sandbox's, not real recipients'.
    sandbox: getCampaign(wctx, id).review?.sandbox === true,
    report: {
      ...report,
      failures: report.failures.map((f) => ({
        ...f,
        plain: f.code ? explainProviderError(`${f.code}: ${f.reason}`) : null,
      })),
      campaign: {
        ...report.campaign,
        channelLabel: CHANNEL_LABELS[report.campaign.channel],
        seen: seenLabel(report.campaign.channel),
        created: when(report.campaign.createdAt, tz),
        started: report.campaign.startedAt ? when(report.campaign.startedAt, tz) : null,
        finished: report.campaign.finishedAt ? when(report.campaign.finishedAt, tz) : null,
      },
    },
  };
}

/** A date shown short, with the full date and time on hover. */
function when(date: Date, timeZone: string) {
  return {
    text: formatDateTimeCompact(date, timeZone),
    full: formatDateTime(date, timeZone),
    iso: date.toISOString(),
  };
}

function When({ at }: { at: { text: string; full: string; iso: string } }) {
  return (
    <time dateTime={at.iso} title={at.full}>
      {at.text}
    </time>
  );
}

const METRIC_LABELS = {
  delivered: "delivered",
  read: "read",
  opened: "opened",
  clicked: "clicked",
  replied: "replied",
} as const;

function StatusText({ status }: { status: string }) {
  return <>{status.replace(/_/g, " ")}</>;
}

export default function CampaignReportPage() {
  const { workspace, report, canExport, sandbox } = useLoaderData<typeof loader>();
  const { campaign, funnel, rates } = report;
  const base = `/w/${workspace.slug}/campaigns/${campaign.id}`;
  const seen = campaign.seen;
  const steps = [
    { label: "Audience", value: funnel.audience, rate: null, of: "" },
    { label: "Queued", value: funnel.queued, rate: null, of: "" },
    { label: "Sent", value: funnel.sent, rate: null, of: "" },
    { label: "Delivered", value: funnel.delivered, rate: rates.delivery, of: "of sent" },
    { label: seen, value: funnel.seen, rate: rates.seen, of: "of delivered" },
    { label: "Clicked", value: funnel.clicked, rate: rates.click, of: "of delivered" },
    { label: "Replied", value: funnel.replied, rate: rates.reply, of: "of delivered" },
  ];
  const others = [
    { label: "Failed or bounced", value: funnel.failed, rate: rates.failure, of: "of queued" },
    { label: "Not sent (skipped)", value: funnel.skipped, rate: null, of: "" },
    { label: "Still queued", value: funnel.pending, rate: null, of: "" },
  ];
  const nothingYet = funnel.audience === 0;

  return (
    <>
      <PageHeader
        title={`Report: ${campaign.name}`}
        description={
          <>
            {campaign.channelLabel} campaign, <StatusText status={campaign.status} />. Created{" "}
            <When at={campaign.created} />
            {campaign.started ? (
              <>
                , started <When at={campaign.started} />
              </>
            ) : null}
            {campaign.finished ? (
              <>
                , finished <When at={campaign.finished} />
              </>
            ) : null}
            . Times are in {workspace.timezone}.
            {sandbox ? (
              <>
                {" "}
                <span className="badge badge-warning">Sandbox</span> Nothing was sent to anyone
                {campaign.channel === "whatsapp"
                  ? "; deliveries, reads and replies are simulated."
                  : "."}
              </>
            ) : null}
          </>
        }
        actions={
          <>
            <Link to={base} className="btn btn-secondary">
              Back to the campaign
            </Link>
            {canExport ? (
              <a href={`${base}/report.csv`} className="btn btn-primary" download>
                Download CSV
              </a>
            ) : null}
          </>
        }
      />

      {nothingYet ? (
        <EmptyState title="Nothing to report yet">
          This campaign has not queued any messages. Its numbers appear here once it starts sending.
        </EmptyState>
      ) : null}

      <Card title="Funnel">
        <FunnelChart
          title={`Funnel of ${campaign.name}`}
          description={steps.map((s) => `${s.label} ${formatCount(s.value)}`).join(", ")}
          steps={steps}
        />
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Funnel numbers</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col" className="num">
                  Messages
                </th>
                <th scope="col" className="num">
                  Rate
                </th>
              </tr>
            </thead>
            <tbody>
              {[...steps, ...others].map((s) => (
                <tr key={s.label}>
                  {/* The step names may wrap so the three columns fit a phone. */}
                  <th scope="row" className="wrap">
                    {s.label}
                  </th>
                  <td className="num">{formatCount(s.value)}</td>
                  <td className="num">
                    {s.rate === null ? null : (
                      <>
                        {formatRate(s.rate)} <span className="rate-of">{s.of}</span>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {campaign.channel === "email" ? (
          <p className="field-hint">
            Opens and clicks count people only: views inside Pleisys Engage, mail security scanners,
            bots, prefetches and Apple Mail&apos;s privacy proxy are not counted.
          </p>
        ) : null}
        {report.skipped.length > 0 ? (
          <>
            <h3>Why some were not sent</h3>
            <div className="table-scroll">
              <table className="table">
                <caption className="visually-hidden">Skipped recipients by reason</caption>
                <thead>
                  <tr>
                    <th scope="col">Reason</th>
                    <th scope="col" className="num">
                      Recipients
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {report.skipped.map((s) => (
                    <tr key={s.reason}>
                      <td>{s.reason}</td>
                      <td className="num">{formatCount(s.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </Card>

      <Card title="Per hour">
        {report.hourly.length === 0 ? (
          <p className="muted">Nothing has been sent yet.</p>
        ) : (
          <>
            <ActivityOverTime
              title="Messages per hour"
              description={`Sent, delivered, ${seen.toLowerCase()}, clicked and failed per hour in ${workspace.timezone}, from ${formatLocalHour(report.hourly[0]!.hour)} to ${formatLocalHour(report.hourly.at(-1)!.hour)}.`}
              seenLabel={seen}
              periodHeader="Hour"
              tableSummary="Numbers per hour"
              points={report.hourly.map((h) => ({
                ...h,
                at: h.hour,
                label: formatLocalHour(h.hour),
              }))}
            >
              {report.hourlyTruncated ? (
                <p className="muted">
                  The chart shows the first two weeks; later activity is in the totals above.
                </p>
              ) : null}
            </ActivityOverTime>
          </>
        )}
      </Card>

      <Card title="Failures by provider reason">
        {report.failures.length === 0 ? (
          <p className="muted">No message failed or bounced.</p>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Failures by provider code and reason</caption>
              <thead>
                <tr>
                  <th scope="col">Code</th>
                  <th scope="col">Reason</th>
                  <th scope="col" className="num">
                    Messages
                  </th>
                </tr>
              </thead>
              <tbody>
                {report.failures.map((f) => (
                  <tr key={`${f.code ?? ""} ${f.reason}`}>
                    <td>{f.code ? <code>{f.code}</code> : <span className="muted">—</span>}</td>
                    <td>{f.plain?.detail ? <ProviderErrorText plain={f.plain} /> : f.reason}</td>
                    <td className="num">{formatCount(f.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <Card title="Clicks per link">
        {report.links.length === 0 ? (
          <p className="muted">
            No tracked link was clicked
            {campaign.channel === "email"
              ? "."
              : ": links are tracked in email campaigns with click tracking on."}
          </p>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Clicks per link</caption>
              <thead>
                <tr>
                  <th scope="col">Link</th>
                  <th scope="col" className="num">
                    Clicks
                  </th>
                  <th scope="col" className="num">
                    People
                  </th>
                </tr>
              </thead>
              <tbody>
                {report.links.map((l) => (
                  <tr key={l.url}>
                    <td>
                      <code>{l.url}</code>
                    </td>
                    <td className="num">{formatCount(l.clicks)}</td>
                    <td className="num">{formatCount(l.recipients)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <Card title="Unsubscribes and bounces">
        <StatGrid
          stats={[
            ["Unsubscribed", formatCount(report.suppressions.unsubscribed)],
            ["Bounced", formatCount(report.suppressions.bounced)],
            ["Complaints", formatCount(report.suppressions.complained)],
            ["Unsubscribe rate", formatRate(rates.unsubscribe)],
          ]}
        />
        <p className="muted">
          An unsubscribe counts for this campaign when its message was the last one the person got
          on that channel before leaving. Bounced and complaining addresses are suppressed.
        </p>
      </Card>

      {report.variants.length > 0 ? (
        <Card title="A/B variants">
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Numbers per variant</caption>
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col" className="num">
                    Recipients
                  </th>
                  <th scope="col" className="num">
                    Sent
                  </th>
                  <th scope="col" className="num">
                    Delivered
                  </th>
                  <th scope="col" className="num">
                    {seen}
                  </th>
                  <th scope="col" className="num">
                    Clicked
                  </th>
                  <th scope="col" className="num">
                    Replied
                  </th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                  {campaign.abMetric ? (
                    <th scope="col" className="num">
                      {`${METRIC_LABELS[campaign.abMetric]} per sent`}
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {report.variants.map((v) => (
                  <tr key={v.key}>
                    <th scope="row">
                      {v.key}
                      {v.winner ? <span className="badge badge-success">winner</span> : null}
                    </th>
                    <td className="num">{formatCount(v.recipients)}</td>
                    <td className="num">{formatCount(v.sent)}</td>
                    <td className="num">{formatCount(v.delivered)}</td>
                    <td className="num">{formatCount(v.seen)}</td>
                    <td className="num">{formatCount(v.clicked)}</td>
                    <td className="num">{formatCount(v.replied)}</td>
                    <td className="num">{formatCount(v.failed)}</td>
                    {campaign.abMetric ? <td className="num">{formatRate(v.metricRate)}</td> : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {campaign.abMetric ? (
            <p className="muted">
              The winner is the variant with the most {METRIC_LABELS[campaign.abMetric]} messages
              per message sent in the test sample.
            </p>
          ) : null}
        </Card>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
