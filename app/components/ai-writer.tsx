import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { Alert } from "./ui/alert";

/**
 * "Write with AI": a brief, tone, language and channel go to the workspace's AI copy route
 * (routes/w.$slug.ai.copy.ts); Claude's answer streams into three cards, each with a "Use this"
 * button that hands its text to `onUse`.
 *
 * Safe to place inside another <form> (the template editor): its inputs have no `name`, its
 * buttons are type="button" and Enter in its fields never submits the surrounding form.
 * Needs JavaScript (it reads a stream); before hydration the Write button stays disabled.
 */

export const AI_COPY_CHANNELS = [
  { value: "whatsapp", label: "WhatsApp message" },
  { value: "sms", label: "SMS" },
  { value: "email-subject", label: "Email subject line" },
  { value: "email-body", label: "Email body" },
  { value: "telegram", label: "Telegram message" },
] as const;
export type AiCopyChannel = (typeof AI_COPY_CHANNELS)[number]["value"];

const TONES = ["Friendly", "Professional", "Festive", "Urgent", "Playful", "Warm", "Formal"];
const LANGUAGES = [
  "English",
  "Hindi",
  "Hinglish",
  "Tamil",
  "Telugu",
  "Bengali",
  "Marathi",
  "Kannada",
  "Malayalam",
  "Gujarati",
  "Punjabi",
];

export interface AiSuggestionCheck {
  characters: number;
  limit: number;
  withinLimit: boolean;
  sms?: { encoding: "GSM-7" | "UCS-2"; segments: number };
}

export interface AiWriterInput {
  channel: AiCopyChannel;
  brief: string;
  tone: string;
  language: string;
}

export interface AiWriterState {
  status: "idle" | "streaming" | "done" | "error";
  /** Claude's text so far (while streaming). */
  text: string;
  /** Live: the versions written so far; done: the parsed suggestions. */
  suggestions: string[];
  checks: AiSuggestionCheck[];
  error: string | null;
  fieldErrors: Record<string, string[]>;
}

const INITIAL: AiWriterState = {
  status: "idle",
  text: "",
  suggestions: [],
  checks: [],
  error: null,
  fieldErrors: {},
};

/** The versions in a partial answer: split at lines of "---", trimmed, empty ones dropped. */
export function splitStreamingText(text: string): string[] {
  return text
    .split(/^[ \t]*-{3,}[ \t]*$/m)
    .map((part) => part.trim())
    .filter(Boolean)
    .slice(0, 3);
}

export type AiCopyStreamEvent =
  | { type: "delta"; text: string }
  | { type: "done"; suggestions: string[]; checks?: AiSuggestionCheck[] }
  | { type: "error"; message: string; code?: string };

/**
 * Reads the AI copy route's event stream (`data: <json>` blocks), calling `onEvent` for each
 * event in order. Resolves when the stream ends.
 */
export async function readAiCopyStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: AiCopyStreamEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    // Line ends may be \r\n or \r; a \r at the very end waits for the next chunk's \n.
    buffer = (buffer + decoder.decode(value, { stream: true }))
      .replace(/\r\n/g, "\n")
      .replace(/\r(?!$)/g, "\n");
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) onEvent(JSON.parse(data) as AiCopyStreamEvent);
    }
  }
}

/**
 * Posts to the AI copy route (`action`, e.g. `/w/${slug}/ai/copy`) and follows its event
 * stream. `generate` starts a request (stopping one still running), `stop` cancels it.
 */
export function useAiWriter(action: string) {
  const [state, setState] = useState<AiWriterState>(INITIAL);
  const controller = useRef<AbortController | null>(null);

  useEffect(() => () => controller.current?.abort(), []);

  const stop = useCallback(() => {
    controller.current?.abort();
    controller.current = null;
    setState((s) => (s.status === "streaming" ? { ...s, status: "done" } : s));
  }, []);

  const reset = useCallback(() => {
    controller.current?.abort();
    controller.current = null;
    setState(INITIAL);
  }, []);

  const generate = useCallback(
    async (input: AiWriterInput) => {
      controller.current?.abort();
      const abort = new AbortController();
      controller.current = abort;
      setState({ ...INITIAL, status: "streaming" });
      const fail = (error: string, fieldErrors: Record<string, string[]> = {}) =>
        setState((s) => ({ ...s, status: "error", error, fieldErrors }));
      try {
        const res = await fetch(action, {
          method: "POST",
          body: new URLSearchParams({ ...input }),
          headers: { Accept: "text/event-stream" },
          signal: abort.signal,
        });
        const type = res.headers.get("Content-Type") ?? "";
        if (res.redirected) {
          fail("Your session has ended. Sign in again, then write again.");
          return;
        }
        if (!res.ok || !type.startsWith("text/event-stream") || !res.body) {
          const body = (await res.json().catch(() => null)) as {
            message?: string;
            fieldErrors?: Record<string, string[]>;
          } | null;
          fail(body?.message ?? `AI writing failed (${res.status}).`, body?.fieldErrors ?? {});
          return;
        }
        let text = "";
        let finished = false;
        await readAiCopyStream(res.body, (event) => {
          if (finished) return;
          if (event.type === "delta") {
            text += event.text;
            const current = text;
            setState((s) => ({ ...s, text: current, suggestions: splitStreamingText(current) }));
          } else if (event.type === "done") {
            finished = true;
            setState((s) => ({
              ...s,
              status: "done",
              suggestions: event.suggestions,
              checks: event.checks ?? [],
            }));
          } else {
            finished = true;
            fail(event.message);
          }
        });
        if (!finished) fail("The answer was cut off. Try again.");
      } catch {
        if (abort.signal.aborted) return;
        fail("Could not reach the server. Try again.");
      } finally {
        if (controller.current === abort) controller.current = null;
      }
    },
    [action],
  );

  return { state, generate, stop, reset };
}

function checkText(check: AiSuggestionCheck | undefined): string | null {
  if (!check) return null;
  if (check.sms) {
    const segments = `${check.sms.segments} SMS segment${check.sms.segments === 1 ? "" : "s"}`;
    return `${check.characters} characters, ${segments} (${check.sms.encoding})`;
  }
  return `${check.characters.toLocaleString("en-IN")} / ${check.limit.toLocaleString("en-IN")} characters`;
}

export interface AiWriterProps {
  /** The AI copy route of this workspace, e.g. `/w/${slug}/ai/copy`. */
  action: string;
  /** From the loader (aiConfigured()): without a key the feature only says so. */
  configured: boolean;
  /** Called with the chosen suggestion's text. */
  onUse: (text: string) => void;
  /** Preselected channel; with `lockChannel` it is the only one. */
  channel?: AiCopyChannel;
  lockChannel?: boolean;
  defaultBrief?: string;
  defaultTone?: string;
  defaultLanguage?: string;
  /** Heading text; default "Write with AI". */
  title?: string;
}

export function AiWriter({
  action,
  configured,
  onUse,
  channel: initialChannel = "whatsapp",
  lockChannel = false,
  defaultBrief = "",
  defaultTone = "Friendly",
  defaultLanguage = "English",
  title = "Write with AI",
}: AiWriterProps) {
  const id = useId();
  const [hydrated, setHydrated] = useState(false);
  const [channel, setChannel] = useState<AiCopyChannel>(initialChannel);
  const [brief, setBrief] = useState(defaultBrief);
  const [tone, setTone] = useState(defaultTone);
  const [language, setLanguage] = useState(defaultLanguage);
  const [notice, setNotice] = useState("");
  const { state, generate, stop } = useAiWriter(action);
  useEffect(() => setHydrated(true), []);
  useEffect(() => setChannel(initialChannel), [initialChannel]);

  const headingId = `${id}-title`;
  if (!configured) {
    return (
      <section className="card ai-writer" aria-labelledby={headingId}>
        <h2 id={headingId} className="card-title">
          {title}
        </h2>
        <Alert tone="info" title="AI writing is not configured">
          The server operator can turn it on by setting ANTHROPIC_API_KEY.
        </Alert>
      </section>
    );
  }

  const streaming = state.status === "streaming";
  const briefLength = brief.trim().length;
  const canWrite = hydrated && !streaming && briefLength >= 5 && briefLength <= 1000;

  function write() {
    if (!canWrite) return;
    setNotice("");
    void generate({ channel, brief, tone, language });
  }

  // Enter in a one-line field (or Ctrl/⌘+Enter in the brief) writes; it never submits an
  // enclosing form.
  function onKeyDown(event: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) {
    if (event.key !== "Enter") return;
    const multiline = event.currentTarget instanceof HTMLTextAreaElement;
    if (multiline && !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    write();
  }

  const errorsFor = (name: string) => state.fieldErrors[name]?.join(" ");
  const fieldProps = (name: string, hint?: boolean) => {
    const error = errorsFor(name);
    const describedBy = [hint ? `${id}-${name}-hint` : null, error ? `${id}-${name}-error` : null]
      .filter(Boolean)
      .join(" ");
    return {
      id: `${id}-${name}`,
      "aria-invalid": error ? true : undefined,
      "aria-describedby": describedBy || undefined,
    };
  };
  const fieldError = (name: string) =>
    errorsFor(name) ? (
      <p id={`${id}-${name}-error`} className="field-error">
        {errorsFor(name)}
      </p>
    ) : null;

  const cards = [0, 1, 2].map((i) => state.suggestions[i] ?? "");
  const channelLabel = AI_COPY_CHANNELS.find((c) => c.value === channel)?.label ?? channel;
  const status = streaming
    ? "Claude is writing…"
    : notice ||
      (state.status === "done"
        ? `${state.suggestions.length} suggestion${state.suggestions.length === 1 ? "" : "s"} ready.`
        : "");

  return (
    <section className="card ai-writer" aria-labelledby={headingId}>
      <h2 id={headingId} className="card-title">
        {title}
      </h2>
      <div className="field">
        <label htmlFor={`${id}-brief`}>What should the message say?</label>
        <textarea
          {...fieldProps("brief", true)}
          rows={3}
          maxLength={1000}
          value={brief}
          onChange={(e) => setBrief(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <p id={`${id}-brief-hint`} className="field-hint">
          The offer, dates and any link or code, in 5 to 1,000 characters. Don&apos;t paste customer
          details: the brief is sent to Anthropic (Claude). Ctrl+Enter writes.
        </p>
        {fieldError("brief")}
      </div>
      <div
        className="ai-writer-options"
        style={{ display: "flex", flexWrap: "wrap", gap: "0 var(--space-4)" }}
      >
        {lockChannel ? null : (
          <div className="field">
            <label htmlFor={`${id}-channel`}>Channel</label>
            <select
              {...fieldProps("channel")}
              value={channel}
              onChange={(e) => setChannel(e.target.value as AiCopyChannel)}
            >
              {AI_COPY_CHANNELS.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
            {fieldError("channel")}
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-tone`}>Tone</label>
          <input
            {...fieldProps("tone")}
            type="text"
            list={`${id}-tones`}
            maxLength={40}
            value={tone}
            onChange={(e) => setTone(e.target.value)}
            onKeyDown={onKeyDown}
          />
          <datalist id={`${id}-tones`}>
            {TONES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          {fieldError("tone")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-language`}>Language</label>
          <input
            {...fieldProps("language")}
            type="text"
            list={`${id}-languages`}
            maxLength={40}
            value={language}
            onChange={(e) => setLanguage(e.target.value)}
            onKeyDown={onKeyDown}
          />
          <datalist id={`${id}-languages`}>
            {LANGUAGES.map((l) => (
              <option key={l} value={l} />
            ))}
          </datalist>
          {fieldError("language")}
        </div>
      </div>
      <div className="page-actions">
        <button type="button" className="btn btn-primary" disabled={!canWrite} onClick={write}>
          {state.status === "idle" ? "Write 3 suggestions" : "Write again"}
        </button>
        {streaming ? (
          <button type="button" className="btn btn-secondary" onClick={stop}>
            Stop
          </button>
        ) : null}
      </div>
      <p className="muted" role="status" aria-live="polite">
        {status}
      </p>
      {state.status === "error" && state.error ? (
        <Alert tone="error" title="No suggestions this time">
          {state.error}
        </Alert>
      ) : null}
      {state.status === "idle" ? null : (
        <ol
          className="feature-grid ai-writer-suggestions"
          aria-label={`Suggestions: ${channelLabel}`}
          style={{ listStyle: "none", padding: 0 }}
        >
          {cards.map((text, i) => {
            const ready = state.status === "done" && text !== "";
            const check = checkText(state.checks[i]);
            const over = state.checks[i] && !state.checks[i].withinLimit;
            return (
              <li key={i} className="card" aria-busy={streaming || undefined}>
                <h3 className="card-title">Suggestion {i + 1}</h3>
                <p style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
                  {text || (streaming ? "…" : "No suggestion.")}
                </p>
                {ready && check ? (
                  <p className="field-hint">
                    {check}
                    {over ? <span className="badge badge-warning">Over the limit</span> : null}
                  </p>
                ) : null}
                {ready ? (
                  <button
                    type="button"
                    className="btn btn-secondary"
                    onClick={() => {
                      onUse(text);
                      setNotice(`Suggestion ${i + 1} used.`);
                    }}
                  >
                    Use this<span className="visually-hidden"> (suggestion {i + 1})</span>
                  </button>
                ) : null}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
