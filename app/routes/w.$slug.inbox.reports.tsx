import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import {
  formatCount,
  formatDurationMs,
  formatLocalDay,
  formatRate,
  FunnelChart,
  LineChart,
  StatGrid,
} from "~/components/charts";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  lastDays,
  loadInboxReport,
  type DurationStats,
  type NamedInboxReport,
  type ReportDay,
} from "~/domain/inbox/reports.server";
import { ValidationError, type FieldErrors } from "~/lib/errors";

/**
 * GET /w/<slug>/inbox/reports — the inbox by day on the workspace's calendar: conversations
 * started and resolved, first-response and resolution times, CSAT, the work per member and what
 * became of AI drafts, as charts with the same numbers in tables, and as CSV.
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Inbox reports — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PRESETS = [7, 30, 90] as const;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "analytics:read");
  const params = new URL(args.request.url).searchParams;
  const query = { from: params.get("from") ?? "", to: params.get("to") ?? "" };
  const base = {
    workspace: { name: workspace.name, slug: workspace.slug, timezone: workspace.timezone },
    query,
    presets: PRESETS.map((days) => ({ days, ...lastDays(wctx, days) })),
  };
  try {
    const report = await loadInboxReport(wctx, query);
    return data({ ...base, report, message: null, errors: {} as FieldErrors });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return data(
      { ...base, report: null, message: error.message, errors: error.fieldErrors },
      { status: 400 },
    );
  }
}

type Report = NamedInboxReport;

/** Minutes, or hours when the longest value is three hours or more; one decimal. */
function durationSeries(days: ReportDay[], pick: (d: ReportDay) => DurationStats) {
  const longest = Math.max(0, ...days.map((d) => pick(d).p90Ms ?? 0));
  const [unit, size] = longest >= 3 * 3_600_000 ? ["hours", 3_600_000] : ["minutes", 60_000];
  const scale = (ms: number | null) => (ms === null ? null : Math.round((ms / size) * 10) / 10);
  return {
    unit,
    series: [
      { label: `Median (${unit})`, values: days.map((d) => scale(pick(d).medianMs)) },
      { label: `90th percentile (${unit})`, values: days.map((d) => scale(pick(d).p90Ms)) },
    ],
  };
}

function csatText(csat: Report["totals"]["csat"]): string {
  return csat.average === null ? "—" : `${csat.average.toFixed(2)} / 5`;
}

export default function InboxReportsPage() {
  const { workspace, query, presets, report, message, errors } = useLoaderData<typeof loader>();
  const page = `/w/${workspace.slug}/inbox/reports`;
  const range = report ? `from=${report.from}&to=${report.to}` : "";
  return (
    <>
      <PageHeader
        title="Inbox reports"
        description={
          report
            ? `${formatLocalDay(report.from)} ${report.from.slice(0, 4)} to ${formatLocalDay(report.to)} ${report.to.slice(0, 4)}, by day in ${workspace.timezone}.`
            : `By day in ${workspace.timezone}.`
        }
        actions={
          report ? (
            <a className="btn btn-secondary" href={`${page}.csv?${range}`} download>
              Download CSV
            </a>
          ) : null
        }
      />

      <Form method="get" className="filters" aria-label="Choose the days">
        <Field
          label="First day"
          name="from"
          type="date"
          defaultValue={report?.from ?? query.from}
          errors={errors.from}
        />
        <Field
          label="Last day"
          name="to"
          type="date"
          defaultValue={report?.to ?? query.to}
          errors={errors.to}
        />
        <div className="filters-actions">
          <Button type="submit" variant="secondary">
            Show
          </Button>
        </div>
      </Form>
      <p className="muted">
        Or show the{" "}
        {presets.map((p, i) => (
          <span key={p.days}>
            {i > 0 ? (i === presets.length - 1 ? " or " : ", ") : null}
            <Link to={`${page}?from=${p.from}&to=${p.to}`}>last {p.days} days</Link>
          </span>
        ))}
        .
      </p>
      <FormErrors errors={message ? [message] : undefined} />

      {!report ? null : report.empty ? (
        <EmptyState title="No inbox activity on these days">
          Conversations, replies, CSAT answers and AI drafts appear here by day once customers write
          in and your team answers. Try a wider range.
        </EmptyState>
      ) : (
        <ReportBody report={report} page={page} range={range} />
      )}
    </>
  );
}

function ReportBody({ report, page, range }: { report: Report; page: string; range: string }) {
  const { totals, days } = report;
  const labels = days.map((d) => formatLocalDay(d.day));
  const span = `from ${formatLocalDay(report.from)} to ${formatLocalDay(report.to)}`;
  const firstResponse = durationSeries(days, (d) => d.firstResponse);
  const resolution = durationSeries(days, (d) => d.resolution);
  return (
    <>
      <Card title="Summary">
        <StatGrid
          stats={[
            ["Conversations started", formatCount(totals.started)],
            ["Conversations resolved", formatCount(totals.resolved)],
            ["Replies sent", formatCount(totals.replies)],
            ["Median first response", formatDurationMs(totals.firstResponse.medianMs)],
            ["First response, 90th percentile", formatDurationMs(totals.firstResponse.p90Ms)],
            ["Median resolution time", formatDurationMs(totals.resolution.medianMs)],
            ["Resolution, 90th percentile", formatDurationMs(totals.resolution.p90Ms)],
            ["CSAT average", csatText(totals.csat)],
            ["Satisfied (4–5)", formatRate(totals.csat.satisfiedRate)],
            [
              "CSAT responses",
              `${formatCount(totals.csat.responses)} of ${formatCount(totals.csat.asked)} asked`,
            ],
          ]}
        />
      </Card>

      <Card title="Conversations per day">
        <LineChart
          title="Conversations started and resolved per day"
          description={`${formatCount(totals.started)} started and ${formatCount(totals.resolved)} resolved ${span}.`}
          labels={labels}
          series={[
            { label: "Started", values: days.map((d) => d.started) },
            { label: "Resolved", values: days.map((d) => d.resolved) },
          ]}
        />
      </Card>

      <Card title="First response time">
        <p className="muted">
          From the customer’s first message to the first reply from a member, on the day of the
          reply. Days without a first response are gaps.
        </p>
        <LineChart
          title={`First response time per day, in ${firstResponse.unit}`}
          description={`Median ${formatDurationMs(totals.firstResponse.medianMs)} over ${formatCount(totals.firstResponse.count)} first responses ${span}.`}
          labels={labels}
          series={firstResponse.series}
        />
      </Card>

      <Card title="Resolution time">
        <p className="muted">
          From the start of the conversation to its resolution, on the day it was resolved.
        </p>
        <LineChart
          title={`Resolution time per day, in ${resolution.unit}`}
          description={`Median ${formatDurationMs(totals.resolution.medianMs)} over ${formatCount(totals.resolution.count)} resolved conversations ${span}.`}
          labels={labels}
          series={resolution.series}
        />
      </Card>

      <Card title="Customer satisfaction">
        <LineChart
          title="CSAT answers per day"
          description={`${formatCount(totals.csat.responses)} answers, ${formatCount(totals.csat.satisfied)} of them 4 or 5, ${span}.`}
          labels={labels}
          series={[
            { label: "Answers", values: days.map((d) => d.csat.responses) },
            { label: "Satisfied (4–5)", values: days.map((d) => d.csat.satisfied) },
          ]}
        />
      </Card>

      <DayTable report={report} />
      <AgentCard report={report} page={page} range={range} />
      <DraftCard drafts={totals.drafts} />
    </>
  );
}

function DayTable({ report }: { report: Report }) {
  return (
    <Card title="Numbers per day">
      <details>
        <summary>Show the table</summary>
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Inbox numbers per day</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                {[
                  "Started",
                  "Resolved",
                  "Replies",
                  "First response, median",
                  "First response, 90th",
                  "Resolution, median",
                  "Resolution, 90th",
                  "CSAT answers",
                  "CSAT average",
                ].map((label) => (
                  <th key={label} scope="col" className="num">
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {report.days.map((d) => (
                <tr key={d.day}>
                  <th scope="row">
                    <time dateTime={d.day}>{formatLocalDay(d.day)}</time>
                  </th>
                  <td className="num">{formatCount(d.started)}</td>
                  <td className="num">{formatCount(d.resolved)}</td>
                  <td className="num">{formatCount(d.replies)}</td>
                  <td className="num">{formatDurationMs(d.firstResponse.medianMs)}</td>
                  <td className="num">{formatDurationMs(d.firstResponse.p90Ms)}</td>
                  <td className="num">{formatDurationMs(d.resolution.medianMs)}</td>
                  <td className="num">{formatDurationMs(d.resolution.p90Ms)}</td>
                  <td className="num">{formatCount(d.csat.responses)}</td>
                  <td className="num">
                    {d.csat.average === null ? "—" : d.csat.average.toFixed(2)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </Card>
  );
}

/** The chart's label column fits about 16 characters; the table beside it has the full name. */
function shortName(name: string): string {
  return name.length > 16 ? `${name.slice(0, 15)}…` : name;
}

function AgentCard({ report, page, range }: { report: Report; page: string; range: string }) {
  const busy = report.agents.filter((a) => a.handled > 0);
  return (
    <Card title="Per member">
      {report.agents.length === 0 ? (
        <p className="muted">No member replied, resolved or was rated on these days.</p>
      ) : (
        <>
          {busy.length > 0 ? (
            <FunnelChart
              title="Conversations per member"
              description={busy.map((a) => `${a.name}: ${a.handled}`).join(", ")}
              steps={busy.map((a) => ({ label: shortName(a.name), value: a.handled }))}
            />
          ) : null}
          <div className="table-scroll">
            <table className="table" data-testid="agent-table">
              <caption className="visually-hidden">Inbox work per member</caption>
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col" className="num">
                    Conversations
                  </th>
                  <th scope="col" className="num">
                    Replies
                  </th>
                  <th scope="col" className="num">
                    Median first response
                  </th>
                  <th scope="col" className="num">
                    Resolved
                  </th>
                  <th scope="col" className="num">
                    CSAT
                  </th>
                </tr>
              </thead>
              <tbody>
                {report.agents.map((a) => (
                  <tr key={a.userId}>
                    <th scope="row">{a.name}</th>
                    <td className="num">{formatCount(a.handled)}</td>
                    <td className="num">{formatCount(a.replies)}</td>
                    <td className="num">{formatDurationMs(a.firstResponse.medianMs)}</td>
                    <td className="num">{formatCount(a.resolved)}</td>
                    <td className="num">
                      {a.csat.average === null
                        ? "—"
                        : `${a.csat.average.toFixed(2)} (${formatCount(a.csat.responses)})`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p>
            <a href={`${page}.csv?${range}&table=agents`} download>
              Download the per-member CSV
            </a>
          </p>
        </>
      )}
    </Card>
  );
}

function DraftCard({ drafts }: { drafts: Report["totals"]["drafts"] }) {
  const ended = drafts.accepted + drafts.edited + drafts.discarded + drafts.failed;
  if (ended + drafts.open === 0) return null;
  const share = (n: number, rate: number | undefined) =>
    `${formatCount(n)} (${formatRate(rate ?? null)})`;
  return (
    <Card title="AI drafts">
      <p className="muted">
        Drafts asked for on these days. Shares are of the {formatCount(ended)} drafts that ended
        {drafts.open > 0 ? `; ${formatCount(drafts.open)} still open.` : "."}
      </p>
      <StatGrid
        stats={[
          ["Sent as written", share(drafts.accepted, drafts.rates?.accepted)],
          ["Edited, then sent", share(drafts.edited, drafts.rates?.edited)],
          ["Discarded", share(drafts.discarded, drafts.rates?.discarded)],
          ["Failed", share(drafts.failed, drafts.rates?.failed)],
        ]}
      />
    </Card>
  );
}
