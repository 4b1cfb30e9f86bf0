import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import {
  AiUnavailableError,
  aiWriterStatus,
  prepareCopy,
  type CopyJob,
} from "~/domain/ai/copy.server";
import { AppError, RateLimitedError, ValidationError } from "~/lib/errors";
import { logger } from "~/lib/logger.server";

/**
 * "Write with AI" for message copy (campaigns:write), used by components/ai-writer.tsx.
 *
 *   POST channel, brief, tone, language (form fields)
 *     200 text/event-stream of `data: <json>` events:
 *       {type: "delta", text}              Claude's text as it arrives ("---" lines between versions)
 *       {type: "done", suggestions, checks} the three suggestions, parsed
 *       {type: "error", message}           Claude failed after the stream started
 *     4xx JSON {message, code, fieldErrors?} before any streaming: invalid input (400), AI not
 *     configured (409), the workspace's hourly limit (429 + Retry-After).
 *   GET  JSON {configured, requestsPerHour}: whether to offer the feature at all.
 *
 * The tenant comes from requireWorkspace (session + membership); the brief is all that goes to
 * Claude, with the workspace's name (see domain/ai/copy.server.ts).
 */

const JSON_HEADERS = { "Cache-Control": "no-store" };

function errorResponse(error: AppError): Response {
  const headers = new Headers(JSON_HEADERS);
  const retryAfter =
    error instanceof RateLimitedError || error instanceof AiUnavailableError
      ? error.retryAfterSeconds
      : undefined;
  if (retryAfter !== undefined) headers.set("Retry-After", String(retryAfter));
  return Response.json(
    {
      message: error.message,
      code: error.code,
      ...(error instanceof ValidationError ? { fieldErrors: error.fieldErrors } : {}),
    },
    { status: error.status, headers },
  );
}

function field(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}

export async function loader(args: LoaderFunctionArgs) {
  await requireWorkspace(args, "campaigns:write");
  return Response.json(aiWriterStatus(), { headers: JSON_HEADERS });
}

export async function action(args: ActionFunctionArgs) {
  const { wctx } = await requireWorkspace(args, "campaigns:write");
  if (args.request.method !== "POST") {
    return Response.json(
      { message: "Use POST.", code: "method_not_allowed" },
      { status: 405, headers: { ...JSON_HEADERS, Allow: "GET, POST" } },
    );
  }
  let form: FormData;
  try {
    form = await args.request.formData();
  } catch {
    return Response.json(
      { message: "Send the brief as form fields.", code: "bad_request" },
      { status: 400, headers: JSON_HEADERS },
    );
  }

  let job: CopyJob;
  try {
    job = prepareCopy(wctx, {
      workspaceId: wctx.workspaceId,
      userId: wctx.userId,
      channel: field(form, "channel") ?? "",
      brief: field(form, "brief") ?? "",
      tone: field(form, "tone"),
      language: field(form, "language"),
    });
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return errorResponse(error);
    throw error;
  }

  const signal = args.request.signal;
  const encoder = new TextEncoder();
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (event: Record<string, unknown>) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(event)}\n\n`));
        } catch {
          open = false; // The client went away.
        }
      };
      try {
        const result = await job.run((text) => send({ type: "delta", text }), { signal });
        send({ type: "done", suggestions: result.suggestions, checks: result.checks });
      } catch (error) {
        if (error instanceof AppError) {
          send({ type: "error", message: error.message, code: error.code });
        } else {
          logger.error({ err: error }, "AI copy stream failed");
          send({ type: "error", message: "Something went wrong. Please try again." });
        }
      } finally {
        if (open) {
          open = false;
          controller.close();
        }
      }
    },
    cancel() {
      // The client went away; request.signal stops the call to Claude.
      open = false;
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      // no-transform: proxies must not buffer or compress the stream; nginx reads the other.
      "Cache-Control": "no-store, no-transform",
      "X-Accel-Buffering": "no",
    },
  });
}
