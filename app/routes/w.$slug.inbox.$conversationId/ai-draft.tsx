import { useFetcher, useRevalidator } from "@remix-run/react";
import { useEffect, useState } from "react";
import { Button, ButtonLink } from "~/components/ui/button";
import type { ConversationPageData } from "./route";

const REWRITES = [
  ["rephrase", "Rephrase"],
  ["shorten", "Shorten"],
  ["friendly", "Friendlier"],
  ["formal", "More formal"],
] as const;

/** While a draft is being written without a live stream, the page is re-read this often. */
const PENDING_POLL_MS = 4_000;

type AiAnswer = { message?: string; text?: string; summary?: string };

/**
 * The composer's AI: ask for a draft, see it arrive (the draft event re-runs the page's loader;
 * without the stream the page is re-read while it is pending), use or discard it, rewrite the
 * Reply box's text, summarise the conversation. Errors are shown in a line; the composer keeps
 * working. With JavaScript the buttons answer in JSON; without it, "Suggest a reply" and
 * "Discard draft" are plain forms that come back to the page, "Use this draft" is a link that
 * puts the draft in the reply box, and rewriting and summaries are not offered.
 */
export function AiAssist({
  d,
  text,
  hydrated,
  onUse,
  onRewrite,
}: {
  d: ConversationPageData;
  text: string;
  hydrated: boolean;
  onUse: (draft: { id: number; body: string }) => void;
  onRewrite: (text: string) => void;
}) {
  const ai = d.composer.ai;
  const url = `/w/${d.workspace.slug}/inbox/${d.conversation.id}/ai`;
  const suggest = useFetcher<AiAnswer>();
  const rewrite = useFetcher<AiAnswer>();
  const summary = useFetcher<AiAnswer>();
  const discard = useFetcher<AiAnswer>();
  const revalidator = useRevalidator();
  const [lastRewrite, setLastRewrite] = useState<string | null>(null);
  const draft = ai.draft;
  const pending = draft?.status === "pending";

  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => revalidator.revalidate(), PENDING_POLL_MS);
    return () => clearInterval(timer);
  }, [pending, revalidator]);

  useEffect(() => {
    const answer = rewrite.data?.text;
    if (rewrite.state === "idle" && answer && answer !== lastRewrite) {
      setLastRewrite(answer);
      onRewrite(answer);
    }
  }, [rewrite.state, rewrite.data, lastRewrite, onRewrite]);

  if (!ai.enabled || !ai.configured) {
    return (
      <p className="muted">
        {!ai.configured
          ? "AI drafts are not available: this server has no Claude API key."
          : "AI drafts are off in this workspace (inbox settings)."}
      </p>
    );
  }
  const errors = [suggest, rewrite, summary, discard]
    .map((f) => (f.state === "idle" ? f.data?.message : undefined))
    .filter(Boolean);
  const post = (fetcher: typeof suggest, fields: Record<string, string>) =>
    fetcher.submit(fields, { method: "post", action: url });
  const shown =
    draft && (draft.status === "pending" || draft.status === "ready" || draft.status === "failed");

  return (
    <div className="inbox-ai">
      {shown ? (
        <section className="inbox-ai-draft" aria-label="AI draft">
          <p className="inbox-msg-context">AI draft — check it before sending</p>
          {draft.status === "pending" ? (
            <p className="muted">Writing a draft…</p>
          ) : draft.status === "failed" ? (
            <p className="muted">
              The draft could not be written{draft.error ? `: ${draft.error}` : "."}
            </p>
          ) : (
            <>
              <p className="inbox-msg-text">{draft.body}</p>
              {draft.citations.length > 0 ? (
                <p className="muted">Based on: {draft.citations.join(", ")}</p>
              ) : null}
            </>
          )}
          {!hydrated && draft.status !== "failed" ? (
            <div className="page-actions">
              {draft.status === "ready" ? (
                <ButtonLink variant="primary" to={`?useDraft=${draft.id}#reply-text`}>
                  Use this draft
                </ButtonLink>
              ) : null}
              <form method="post" action={url}>
                <input type="hidden" name="intent" value="discard" />
                <input type="hidden" name="draftId" value={draft.id} />
                <Button type="submit" variant="secondary">
                  Discard draft
                </Button>
              </form>
            </div>
          ) : null}
          {hydrated && draft.status !== "failed" ? (
            <div className="page-actions">
              {draft.status === "ready" ? (
                <Button type="button" onClick={() => onUse({ id: draft.id, body: draft.body })}>
                  Use this draft
                </Button>
              ) : null}
              <Button
                type="button"
                variant="secondary"
                onClick={() => post(discard, { intent: "discard", draftId: String(draft.id) })}
              >
                Discard draft
              </Button>
            </div>
          ) : null}
        </section>
      ) : null}
      {!hydrated ? (
        <form method="post" action={url} className="inbox-ai-actions">
          <input type="hidden" name="intent" value="draft" />
          <Button type="submit" variant="secondary" disabled={pending}>
            Suggest a reply
          </Button>
        </form>
      ) : null}
      {hydrated ? (
        <div className="inbox-ai-actions">
          <Button
            type="button"
            variant="secondary"
            disabled={suggest.state !== "idle" || pending}
            onClick={() => post(suggest, { intent: "draft" })}
          >
            Suggest a reply
          </Button>
          {REWRITES.map(([mode, label]) => (
            <Button
              key={mode}
              type="button"
              variant="ghost"
              disabled={!text.trim() || rewrite.state !== "idle"}
              onClick={() => post(rewrite, { intent: "rewrite", mode, text })}
            >
              {label}
            </Button>
          ))}
          <Button
            type="button"
            variant="ghost"
            disabled={summary.state !== "idle"}
            onClick={() => post(summary, { intent: "summary" })}
          >
            Summarise conversation
          </Button>
        </div>
      ) : null}
      {summary.data?.summary ? (
        <section className="inbox-ai-summary" aria-label="Summary">
          <p>{summary.data.summary}</p>
        </section>
      ) : null}
      {errors.length > 0 ? (
        <p className="alert alert-warning" role="status">
          {errors[0]}
        </p>
      ) : null}
    </div>
  );
}
