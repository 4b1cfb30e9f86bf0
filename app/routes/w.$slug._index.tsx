import { type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import type { ReactNode } from "react";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import {
  ActivityOverTime,
  formatCount,
  formatLocalDay,
  formatRate,
  StatGrid,
} from "~/components/charts";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { queryAnalytics } from "~/domain/analytics/analytics-worker.server";
import { listCampaignsPage } from "~/domain/campaigns/campaigns.server";
import { listIntegrationStates } from "~/domain/delivery/integrations.server";
import { ONBOARDING_STEPS, type OnboardingStep } from "~/domain/workspaces/onboarding-steps";
import { chooseSandbox, getOnboarding } from "~/domain/workspaces/onboarding.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { redirectWithFlash } from "~/lib/flash.server";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";

export const headers = () => ({ "Cache-Control": "no-store" });

interface Attention {
  text: string;
  to: string;
  link: string;
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role, user, wctx } = await requireWorkspace(args, "workspace:read");
  const base = `/w/${workspace.slug}`;
  const canRead = can(role, "campaigns:read");
  const canSettings = can(role, "workspace:settings");
  // The overview is campaign data: roles without campaigns:read (agents) see the rest.
  const overview = canRead ? await queryAnalytics("workspaceOverview", wctx.workspace) : null;
  const onboarding = getOnboarding(wctx);

  const attention: Attention[] = [];
  if (canRead) {
    const count = (status: "pending_approval" | "paused" | "failed") =>
      listCampaignsPage(wctx, { status, limit: 1 }).total;
    const waiting = count("pending_approval");
    if (waiting > 0 && can(role, "campaigns:approve")) {
      attention.push({
        text: `${formatCount(waiting)} ${waiting === 1 ? "campaign waits" : "campaigns wait"} for approval.`,
        to: `${base}/campaigns?status=pending_approval`,
        link: "Review",
      });
    }
    const paused = count("paused");
    if (paused > 0) {
      attention.push({
        text: `${formatCount(paused)} ${paused === 1 ? "campaign is" : "campaigns are"} paused.`,
        to: `${base}/campaigns?status=paused`,
        link: "See paused campaigns",
      });
    }
    const failed = count("failed");
    if (failed > 0) {
      attention.push({
        text: `${formatCount(failed)} ${failed === 1 ? "campaign" : "campaigns"} failed.`,
        to: `${base}/campaigns?status=failed`,
        link: "See failed campaigns",
      });
    }
  }
  if (canSettings) {
    for (const i of listIntegrationStates(wctx.workspaceId)) {
      if (i.checkFailed) {
        attention.push({
          text: `${CHANNEL_LABELS[i.channel]}: the last connection check failed.`,
          to: `${base}/settings/channels`,
          link: "Check the channel",
        });
      }
    }
    if (onboarding.complete && onboarding.connectedChannels === 0) {
      attention.push({
        text: "No channel is connected: messages go to the sandbox and reach nobody.",
        to: `${base}/settings/channels`,
        link: "Connect a channel",
      });
    }
  }
  const failedMessages = (overview?.channels ?? []).reduce((n, c) => n + c.totals.failed, 0);
  if (failedMessages > 0) {
    attention.push({
      text: `${formatCount(failedMessages)} ${failedMessages === 1 ? "message" : "messages"} failed in the last 30 days.`,
      to: `${base}/messages`,
      link: "See the message log",
    });
  }
  if (!user.mfaEnabled) {
    attention.push({
      text: "Two-factor authentication is off for your account.",
      to: "/account/security/mfa",
      link: "Turn on two-factor authentication",
    });
  }

  const lastStarted = overview?.recentCampaigns.find((c) => c.sent > 0) ?? null;
  return {
    workspace: { slug: workspace.slug, name: workspace.name, timezone: workspace.timezone },
    userName: user.name,
    canManage: can(role, "members:manage"),
    canSend: can(role, "campaigns:write"),
    canImport: can(role, "contacts:write"),
    canSettings,
    onboarding,
    reportLink: lastStarted
      ? `${base}/campaigns/${lastStarted.id}/report`
      : canRead
        ? `${base}/campaigns`
        : null,
    attention,
    overview: overview && {
      from: overview.from,
      to: overview.to,
      totals: overview.channels.reduce(
        (t, c) => ({
          sent: t.sent + c.totals.sent,
          delivered: t.delivered + c.totals.delivered,
          seen: t.seen + c.totals.seen,
          clicked: t.clicked + c.totals.clicked,
        }),
        { sent: 0, delivered: 0, seen: 0, clicked: 0 },
      ),
      channels: overview.channels.map((c) => ({
        ...c,
        label: CHANNEL_LABELS[c.channel],
        seen: c.channel === "email" ? "Opened" : "Read",
      })),
      recentCampaigns: overview.recentCampaigns.map((c) => ({
        ...c,
        channel: CHANNEL_LABELS[c.channel],
        created: formatDateTimeCompact(c.createdAt, workspace.timezone),
        createdFull: formatDateTime(c.createdAt, workspace.timezone),
        createdAt: c.createdAt.toISOString(),
      })),
    },
  };
}

const NEEDS = { sandbox: "campaigns:write" } as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const form = await args.request.formData();
  const { workspace, wctx } = await requireWorkspaceIntent(args, form, NEEDS);
  chooseSandbox(wctx);
  return redirectWithFlash(
    `/w/${workspace.slug}`,
    "You are using the sandbox: messages are kept in Pleisys Engage and reach nobody. Connect a channel when you are ready.",
  );
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>;

const STEP_TEXT: Record<OnboardingStep, { title: string; body: string }> = {
  contacts: {
    title: "Import your contacts",
    body: "Upload a CSV from your spreadsheet or billing system. A sample file shows the columns.",
  },
  channel: {
    title: "Connect a channel, or use the sandbox",
    body: "Connect WhatsApp, email, SMS or Telegram to reach people. In the sandbox, messages are kept here and reach nobody: a safe first try.",
  },
  template: {
    title: "Write a template",
    body: "The message itself, with the contact's name or any attribute filled in.",
  },
  campaign: {
    title: "Send a first campaign",
    body: "Pick an audience and a template, review the cost, and send now or later.",
  },
  report: {
    title: "See the report",
    body: "Delivered, read or opened, clicked and failed, for every campaign.",
  },
};

function Checklist({ home }: { home: LoaderData }) {
  const { onboarding, workspace, canSend, canImport, canSettings, reportLink } = home;
  const base = `/w/${workspace.slug}`;
  const busy = useNavigation().state === "submitting";
  const next = ONBOARDING_STEPS.find((s) => !onboarding.done[s]);
  const actions: Record<OnboardingStep, ReactNode> = {
    contacts: canImport ? (
      <ButtonLink
        to={`${base}/contacts/import`}
        variant={next === "contacts" ? "primary" : undefined}
      >
        Import contacts
      </ButtonLink>
    ) : null,
    channel: (
      <>
        {canSettings ? (
          <ButtonLink
            to={`${base}/settings/channels`}
            variant={next === "channel" ? "primary" : undefined}
          >
            Connect a channel
          </ButtonLink>
        ) : null}
        {canSend ? (
          <Form method="post">
            <input type="hidden" name="intent" value="sandbox" />
            <Button type="submit" disabled={busy}>
              Use the sandbox for now
            </Button>
          </Form>
        ) : null}
      </>
    ),
    template: canSend ? (
      <ButtonLink
        to={`${base}/templates/new`}
        variant={next === "template" ? "primary" : undefined}
      >
        Write a template
      </ButtonLink>
    ) : null,
    campaign: canSend ? (
      <ButtonLink
        to={`${base}/campaigns/new`}
        variant={next === "campaign" ? "primary" : undefined}
      >
        Create a campaign
      </ButtonLink>
    ) : null,
    report: reportLink ? (
      <ButtonLink to={reportLink} variant={next === "report" ? "primary" : undefined}>
        Open the report
      </ButtonLink>
    ) : null,
  };
  const doneText: Record<OnboardingStep, string> = {
    contacts: `${formatCount(onboarding.contacts)} ${onboarding.contacts === 1 ? "contact" : "contacts"}`,
    channel: onboarding.sandboxChosen
      ? "Using the sandbox"
      : `${onboarding.connectedChannels} ${onboarding.connectedChannels === 1 ? "channel" : "channels"} connected`,
    template: "Done",
    campaign: "Done",
    report: "Done",
  };
  return (
    <section className="card onboarding" aria-labelledby="onboarding-title">
      <div className="onboarding-head">
        <h2 id="onboarding-title" className="card-title">
          Get started
        </h2>
        <p className="muted">
          {onboarding.completed} of {ONBOARDING_STEPS.length} done
        </p>
      </div>
      <progress
        className="onboarding-progress"
        max={ONBOARDING_STEPS.length}
        value={onboarding.completed}
        aria-label={`${onboarding.completed} of ${ONBOARDING_STEPS.length} steps done`}
      />
      <ol className="onboarding-steps">
        {ONBOARDING_STEPS.map((step, index) => {
          const done = onboarding.done[step];
          // The sandbox is a choice, not a connection: the step can still be upgraded.
          const showActions = !done || (step === "channel" && onboarding.sandboxChosen);
          return (
            <li key={step} className={done ? "is-done" : step === next ? "is-next" : undefined}>
              <span className="onboarding-mark" aria-hidden="true">
                {done ? "✓" : index + 1}
              </span>
              <div className="onboarding-text">
                <h3>
                  {STEP_TEXT[step].title}
                  {done ? <span className="visually-hidden"> (done)</span> : null}
                </h3>
                <p className="muted">{done ? doneText[step] : STEP_TEXT[step].body}</p>
              </div>
              {showActions ? (
                <div className="onboarding-actions">
                  {step === "channel" && done ? (
                    canSettings ? (
                      <Link to={`${base}/settings/channels`}>Connect a channel</Link>
                    ) : null
                  ) : (
                    actions[step]
                  )}
                </div>
              ) : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function AttentionCard({ attention }: { attention: LoaderData["attention"] }) {
  return (
    <Card title="Needs attention">
      <ul className="attention-list">
        {attention.map((a) => (
          <li key={a.text}>
            <span>{a.text}</span> <Link to={a.to}>{a.link}</Link>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Dashboard({ home }: { home: LoaderData }) {
  const { overview, workspace, onboarding, canSend, attention } = home;
  const base = `/w/${workspace.slug}`;
  const t = overview?.totals;
  return (
    <>
      <section aria-labelledby="numbers-title">
        <h2 id="numbers-title" className="visually-hidden">
          Key numbers
        </h2>
        <StatGrid
          stats={[
            ["Contacts", formatCount(onboarding.contacts)],
            ...(t
              ? ([
                  ["Sent, last 30 days", formatCount(t.sent)],
                  ["Delivery rate", formatRate(t.sent > 0 ? t.delivered / t.sent : null)],
                  ["Read or opened", formatCount(t.seen)],
                  ["Clicked", formatCount(t.clicked)],
                ] as const)
              : []),
          ]}
        />
      </section>

      {attention.length > 0 ? <AttentionCard attention={attention} /> : null}

      {overview ? (
        <Card title="Recent campaigns">
          {overview.recentCampaigns.length === 0 ? (
            <p className="muted">
              No campaigns yet.
              {canSend ? (
                <>
                  {" "}
                  <Link to={`${base}/campaigns/new`}>Create your first campaign</Link>.
                </>
              ) : null}
            </p>
          ) : (
            <div className="table-scroll">
              <table className="table">
                <caption className="visually-hidden">Recent campaigns and their numbers</caption>
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Sent
                    </th>
                    <th scope="col" className="num">
                      Delivered
                    </th>
                    <th scope="col" className="num">
                      Read / opened
                    </th>
                    <th scope="col" className="num">
                      Clicked
                    </th>
                    <th scope="col" className="num">
                      Failed
                    </th>
                    <th scope="col" className="num">
                      Delivery rate
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {overview.recentCampaigns.map((c) => (
                    <tr key={c.id}>
                      <th scope="row">
                        <Link to={`${base}/campaigns/${c.id}/report`}>{c.name}</Link>
                        <div className="muted">
                          {c.channel} ·{" "}
                          <time dateTime={c.createdAt} title={c.createdFull}>
                            {c.created}
                          </time>
                        </div>
                      </th>
                      <td>{c.status.replace(/_/g, " ")}</td>
                      <td className="num">{formatCount(c.sent)}</td>
                      <td className="num">{formatCount(c.delivered)}</td>
                      <td className="num">{formatCount(c.seen)}</td>
                      <td className="num">{formatCount(c.clicked)}</td>
                      <td className="num">{formatCount(c.failed)}</td>
                      <td className="num">{formatRate(c.deliveryRate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      ) : null}

      {overview && overview.channels.length > 0 ? (
        <section aria-labelledby="overview-title">
          <h2 id="overview-title">Last 30 days</h2>
          <p className="muted">
            {formatLocalDay(overview.from)} to {formatLocalDay(overview.to)}, by day in{" "}
            {workspace.timezone}.
          </p>
          {overview.channels.map((c) => (
            <Card key={c.channel} title={c.label}>
              <StatGrid
                stats={[
                  ["Sent", formatCount(c.totals.sent)],
                  ["Delivered", formatCount(c.totals.delivered)],
                  ["Delivery rate", formatRate(c.deliveryRate)],
                  [c.seen, formatCount(c.totals.seen)],
                  ["Clicked", formatCount(c.totals.clicked)],
                  ["Failed", formatCount(c.totals.failed)],
                ]}
              />
              <ActivityOverTime
                title={`${c.label}: the last 30 days`}
                description={`${c.label} messages per day from ${formatLocalDay(overview.from)} to ${formatLocalDay(overview.to)}: ${formatCount(c.totals.sent)} sent, ${formatCount(c.totals.delivered)} delivered, ${formatCount(c.totals.failed)} failed.`}
                seenLabel={c.seen}
                periodHeader="Day"
                tableSummary={`${c.label} numbers per day`}
                points={c.days.map((d) => ({ ...d, at: d.day, label: formatLocalDay(d.day) }))}
              />
            </Card>
          ))}
        </section>
      ) : overview ? (
        <EmptyState
          title="Nothing sent in the last 30 days"
          action={
            canSend ? (
              <Link to={`${base}/campaigns/new`} className="btn btn-primary">
                Create a campaign
              </Link>
            ) : undefined
          }
        >
          Messages you send appear here by channel: sent, delivered, read or opened, clicked and
          failed, day by day.
        </EmptyState>
      ) : null}
    </>
  );
}

export default function WorkspaceHome() {
  const home = useLoaderData<typeof loader>();
  const { workspace, userName, canManage, onboarding } = home;
  return (
    <>
      <PageHeader
        title={`Welcome, ${userName}`}
        description={workspace.name}
        actions={
          canManage ? <Link to={`/w/${workspace.slug}/members`}>Invite your team</Link> : undefined
        }
      />
      {!onboarding.complete ? <Checklist home={home} /> : null}
      {/* A new workspace sees its checklist; numbers come once there is something to count. */}
      {onboarding.complete || (home.overview?.recentCampaigns.length ?? 0) > 0 ? (
        <Dashboard home={home} />
      ) : home.attention.length > 0 ? (
        <AttentionCard attention={home.attention} />
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
