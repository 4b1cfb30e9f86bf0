import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { draftFromForm } from "~/domain/segments/segment-draft";
import {
  countSavedSegment,
  countSegment,
  loadSegmentCatalog,
} from "~/domain/segments/segments.server";
import { evaluateBuilder } from "~/domain/segments/builder.server";
import { AppError, ValidationError } from "~/lib/errors";
import { parseId } from "~/lib/ids";

/**
 * The live count (contacts:read), as JSON: { count } or, for a definition that doesn't fit
 * this workspace, 400 { message, errors } with messages per condition.
 *
 *   GET  ?segmentId=12            a saved segment (cached for a minute)
 *   GET  ?definition=<json>       a definition
 *   GET                           everyone
 *   POST the builder's fields     what the builder shows right now (its fetcher)
 *   POST definition=<json>        a definition
 */

const HEADERS = { "Cache-Control": "no-store" };

function answer(fn: () => number): Response {
  try {
    return Response.json({ count: fn() }, { headers: HEADERS });
  } catch (error) {
    if (error instanceof ValidationError) {
      return Response.json(
        { message: error.message, errors: error.fieldErrors },
        { status: 400, headers: HEADERS },
      );
    }
    if (error instanceof AppError && error.status < 500) {
      return Response.json({ message: error.message }, { status: error.status, headers: HEADERS });
    }
    throw error;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError("The segment definition is not valid JSON.");
  }
}

export async function loader(args: LoaderFunctionArgs) {
  const { wctx: ctx } = await requireWorkspace(args, "contacts:read");
  const params = new URL(args.request.url).searchParams;
  const segmentId = params.get("segmentId");
  const definition = params.get("definition");
  return answer(() => {
    if (segmentId !== null) return countSavedSegment(ctx, parseId(segmentId, "Segment"));
    if (definition !== null) return countSegment(ctx, parseJson(definition));
    return countSegment(ctx, { op: "and", conditions: [] });
  });
}

export async function action(args: ActionFunctionArgs) {
  const { wctx: ctx } = await requireWorkspace(args, "contacts:read");
  let form: FormData;
  try {
    form = await args.request.formData();
  } catch {
    return Response.json(
      { message: "Send the segment as form fields." },
      { status: 400, headers: HEADERS },
    );
  }
  const definition = form.get("definition");
  return answer(() => {
    if (typeof definition === "string") return countSegment(ctx, parseJson(definition));
    const state = evaluateBuilder(ctx, draftFromForm(form), loadSegmentCatalog(ctx));
    if (state.count === null) {
      throw new ValidationError(state.message ?? "Check the conditions.", state.errors);
    }
    return state.count;
  });
}
