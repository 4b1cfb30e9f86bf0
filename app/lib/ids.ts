import { NotFoundError } from "./errors";

/**
 * A record id from a URL or form: a positive integer, anything else is "<what> not found" (a
 * 404), so a mistyped or hostile address never reaches a query. The one parser for every id.
 */
export function parseId(value: string | undefined | null, what: string): number {
  const id = value && /^[1-9]\d{0,14}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(id)) throw new NotFoundError(what);
  return id;
}
