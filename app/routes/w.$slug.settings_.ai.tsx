import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { Card, PageHeader } from "~/components/ui/layout";
import { whatTheAiSees } from "~/domain/ai/transparency.server";
import { formatDateTime } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `What the AI sees — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PURPOSE_LABELS: Record<string, string> = {
  "reply-draft": "Reply drafts",
  rewrite: "Rewrites",
  summary: "Summaries",
};

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "inbox:read");
  const facts = whatTheAiSees(wctx);
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canManage: can(role, "inbox:manage"),
    facts: {
      ...facts,
      monthStart: formatDateTime(facts.monthStart, workspace.timezone),
      rates: { ...facts.rates, since: undefined },
    },
  };
}

const number = (n: number) => n.toLocaleString("en-US");
const percent = (rate: number | null) => (rate === null ? "–" : `${Math.round(rate * 100)}%`);

export default function WhatTheAiSeesPage() {
  const { workspace, canManage, facts } = useLoaderData<typeof loader>();
  const { limits, usage, rates } = facts;
  const base = `/w/${workspace.slug}`;
  return (
    <>
      <PageHeader
        title="What the AI sees"
        description={`When a member asks for an AI reply draft in the inbox, or automatic drafts are on, Pleisys Engage sends Claude (Anthropic's model ${facts.model}) exactly what this page lists, and nothing else. A draft is never sent by itself: a member reads it, may edit it, and presses send.`}
      />

      <Card title="In this workspace">
        <div>
          <p>
            <strong>AI in the inbox:</strong>{" "}
            {facts.enabled ? "On" : "Off: nothing is sent to Claude from the inbox."}
          </p>
          <p>
            <strong>Automatic drafts:</strong>{" "}
            {facts.autoDraft && facts.enabled
              ? "On: a draft is written when a customer's message arrives and no draft is open."
              : "Off: drafts are written only when a member asks."}
          </p>
          <p>
            <strong>Hourly limit:</strong> {number(facts.requestsPerHour)} AI requests (drafts,
            rewrites and summaries together) per hour.
          </p>
        </div>
        {facts.configured ? null : (
          <p className="field-hint">
            Claude is not configured on this server (no ANTHROPIC_API_KEY), so no AI request is made
            at all.
          </p>
        )}
        <p>
          {canManage ? "Turn AI on or off" : "Owners and admins turn AI on or off"} in the{" "}
          <Link to={`${base}/settings/inbox`}>inbox settings</Link>.
        </p>
      </Card>

      <Card title="Sent with a reply draft">
        <ul>
          <li>Your workspace&apos;s name.</li>
          <li>
            The newest {limits.historyMessages} messages of the conversation, oldest first: what the
            customer wrote and what was sent to them. Each is cut to{" "}
            {number(limits.messageMaxChars)} characters.
          </li>
          <li>
            The contact&apos;s {facts.contactFieldsSent.join(" and ")}: at most{" "}
            {limits.maxAttributes} attributes, each value cut to {limits.attributeMaxChars}{" "}
            characters.
          </li>
          <li>
            Up to {limits.snippets} snippets of your{" "}
            <Link to={`${base}/settings/knowledge`}>knowledge base</Link>: the ones that best match
            the customer&apos;s last {limits.searchMessages} messages.
          </li>
          <li>
            Instructions: answer in the language the customer last wrote in, use only the snippets
            and the conversation, and name the snippets used (shown with the draft).
          </li>
        </ul>
      </Card>

      <Card title="Never sent">
        <p>Of the contact: {facts.contactFieldsNeverSent.join(", ")}.</p>
        <p>Of the conversation: {facts.conversationPartsNeverSent.join(", ")}.</p>
      </Card>

      <Card title="Rewrite and summary">
        <p>
          Rephrase, shorten and change tone send only the text in the composer (up to{" "}
          {number(limits.rewriteMaxChars)} characters). A summary sends the contact&apos;s name and
          the same newest {limits.historyMessages} messages. Neither is stored.
        </p>
      </Card>

      <Card title={`Usage since ${facts.monthStart}`}>
        <div>
          <p>
            <strong>Requests:</strong> {number(usage.requests)}
            {usage.requests > 0
              ? ` (${Object.entries(usage.byPurpose)
                  .map(([p, n]) => `${PURPOSE_LABELS[p] ?? p}: ${number(n)}`)
                  .join(", ")})`
              : ""}
          </p>
          <p>
            <strong>Tokens:</strong> {number(usage.inputTokens)} in, {number(usage.outputTokens)}{" "}
            out
          </p>
          <p>
            <strong>Not answered:</strong> {number(usage.byOutcome.error)} failed,{" "}
            {number(usage.byOutcome.rate_limited)} over the hourly limit
          </p>
        </div>
      </Card>

      <Card title="How drafts were used this month">
        {rates.total === 0 ? (
          <p>No draft has been sent or discarded yet this month.</p>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Drafts by outcome</caption>
              <thead>
                <tr>
                  <th scope="col">Outcome</th>
                  <th scope="col">Drafts</th>
                  <th scope="col">Share</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <th scope="row">Sent as written</th>
                  <td>{number(rates.accepted)}</td>
                  <td>{percent(rates.acceptedRate)}</td>
                </tr>
                <tr>
                  <th scope="row">Sent after editing</th>
                  <td>{number(rates.edited)}</td>
                  <td>{percent(rates.editedRate)}</td>
                </tr>
                <tr>
                  <th scope="row">Discarded</th>
                  <td>{number(rates.discarded)}</td>
                  <td>{percent(rates.discardedRate)}</td>
                </tr>
              </tbody>
            </table>
          </div>
        )}
        {rates.failed > 0 ? (
          <p className="field-hint">
            {number(rates.failed)} {rates.failed === 1 ? "draft" : "drafts"} could not be written
            (Claude busy, too slow, or no usable answer); not counted above.
          </p>
        ) : null}
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
