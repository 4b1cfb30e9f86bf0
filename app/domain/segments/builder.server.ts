import { ValidationError } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";
import { randomToken } from "~/lib/tokens";
import type { WorkspaceContext } from "../context";
import { getCountries } from "libphonenumber-js/min";
import {
  applyIntent,
  definitionFromDraft,
  draftFromForm,
  normaliseDraft,
  parseIntent,
  type BuilderIntent,
  type DraftGroup,
  type FormEntries,
} from "./segment-draft";
import { type NodeErrors, type SegmentCatalog, type SegmentDefinition } from "./segment-definition";
import {
  loadSegmentCatalog,
  prepareSegment,
  countWhere,
  type SegmentPreviewRow,
  previewWhere,
} from "./segments.server";

/** The segment builder page: a draft from the form, the intent applied, validated, counted. */

// The builder page: a draft from the form, the intent applied, validated, counted

export interface BuilderState {
  draft: DraftGroup;
  errors: NodeErrors;
  message: string | null;
  count: number | null;
  preview: SegmentPreviewRow[];
  definition: SegmentDefinition | null;
}

/**
 * Validates a draft against the workspace and, when it is valid, counts it and previews the
 * newest matches. Problems come back per node, never as exceptions.
 */
export function evaluateBuilder(
  ctx: WorkspaceContext,
  draft: DraftGroup,
  catalog: SegmentCatalog,
  options: { preview?: number } = {},
): BuilderState {
  const normalised = normaliseDraft(draft, catalog);
  const parsed = definitionFromDraft(normalised, catalog);
  if (!parsed.ok) {
    return {
      draft: normalised,
      errors: parsed.errors,
      message: parsed.message,
      count: null,
      preview: [],
      definition: null,
    };
  }
  const { where } = prepareSegment(ctx, parsed.definition, catalog);
  return {
    draft: normalised,
    errors: {},
    message: null,
    count: countWhere(ctx, where),
    preview: options.preview ? previewWhere(ctx.db, where, options.preview) : [],
    definition: parsed.definition,
  };
}

/**
 * One builder form post: the tree from the structured fields, the button's intent applied
 * (add a condition or group, remove a node), then evaluated. A forged or stale intent is a
 * ValidationError with a clear message.
 */
export function builderFromForm(
  ctx: WorkspaceContext,
  entries: FormEntries,
  intentText: string,
  catalog: SegmentCatalog = loadSegmentCatalog(ctx),
  options: { preview?: number } = {},
): { intent: BuilderIntent; state: BuilderState } {
  const intent = parseIntent(intentText);
  if (!intent) throw new ValidationError("This form asked for something the page does not do.");
  const draft = draftFromForm(entries);
  // A new condition starts complete (email consent granted), so adding one never shows an error.
  const applied = applyIntent(draft, intent);
  if ("error" in applied) {
    const state = evaluateBuilder(ctx, draft, catalog, options);
    return { intent, state: { ...state, message: applied.error } };
  }
  return { intent, state: evaluateBuilder(ctx, applied.draft, catalog, options) };
}

/** Countries for the builder's country picker, by English name. */
export function countryOptions(): { value: string; label: string }[] {
  const names = new Intl.DisplayNames(["en"], { type: "region" });
  return getCountries()
    .map((code) => ({ value: code, label: `${names.of(code) ?? code} (${code})` }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** The builder state as a page renders it: plain data, times in the workspace's zone. */
export function builderView(state: BuilderState, timeZone: string) {
  return {
    draft: state.draft,
    errors: state.errors,
    message: state.message,
    count: state.count,
    preview: state.preview.map((r) => ({
      id: r.id,
      name: r.name,
      email: r.email,
      phone: r.phone,
      created: formatDateTime(r.createdAt, timeZone),
    })),
    /** New on every answer, so the form's inputs take the server's values. */
    revision: randomToken(6),
  };
}

/** What a segment page's action sends back beside the form's errors: the builder as it stands. */
export interface BuilderExtra {
  view: ReturnType<typeof builderView>;
}

/**
 * A save the segment refused: errors about its name go beside the name field, anything else
 * above the form as one message.
 */
export function saveRefusal(error: ValidationError): ValidationError {
  const name = error.fieldErrors.name ?? [];
  return new ValidationError(error.message, name.length > 0 ? { name } : {});
}
