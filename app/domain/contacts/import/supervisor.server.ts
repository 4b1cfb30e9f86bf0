import { and, desc, eq, sql } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { MessageChannel, type Worker } from "node:worker_threads";
import { controlDbPath } from "~/db/control.server";
import {
  contactImportErrors,
  contactImports,
  contactImportWarnings,
  type IMPORT_STATUSES,
} from "~/db/schema/tenant";
import {
  createTenantScope,
  getTenantDb,
  isWorkspaceId,
  tenantDbPath,
  type TenantDb,
} from "~/db/tenants.server";
import { CHANNELS, type Channel } from "~/lib/channels";
import { csvLine } from "~/lib/csv";
import { getEnv } from "~/lib/env.server";
import { AppError, NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { getSubjectIndexKey } from "~/lib/local-secrets.server";
import { logger } from "~/lib/logger.server";
import { attributeKeyFromLabel } from "~/lib/slug";
import { singleton } from "~/lib/singleton.server";
import { startWorker } from "~/lib/worker.server";
import { recordAudit } from "../../audit/audit.server";
import type { Actor, RequestInfo, WorkspaceContext } from "../../context";
import {
  auditAttributeCreated,
  checkNewAttributeDefinition,
  insertAttributeDefinitions,
  listAttributeDefinitions,
  RESERVED_ATTRIBUTE_KEYS,
  type AttributeDefinition,
  type AttributeType,
  type NewAttributeDefinition,
} from "../attributes.server";
import {
  auditGroupCreated,
  findOrInsertGroup,
  groupNameProblem,
  listLists,
} from "../contacts.server";
import {
  guessMapping,
  parseCsvFormat,
  sniffCsvFile,
  type CsvFormat,
  type CsvSniff,
  type ImportField,
} from "./csv-format.server";
import {
  DEFAULT_TUNING,
  type ImportTuning,
  type ImportWorkerData,
  type MainToWriter,
  type WriterReport,
} from "./threads.server";
import {
  MAX_CONSENT_SOURCE,
  ON_EXISTING,
  parseImportOptions,
  type ImportOptions,
  type OnExisting,
} from "./record-batches.server";
import { validateMapping } from "./records.server";
import type { ImportCounts } from "./record-writer.server";
import { suppressionKey } from "../suppression-hash.server";

/**
 * CSV contact imports: upload (streamed to DATA_DIR/uploads), column mapping
 * with a preview and guesses, options, then a run in two worker threads (import-pipeline) with
 * progress kept in the workspace's own database, so it survives a page reload and, after a
 * crash, the run resumes where its last commit left it. At most one import runs per process at
 * a time (two cores: the import takes both); others wait as "queued".
 */

export type ImportStatus = (typeof IMPORT_STATUSES)[number];
const ACTIVE: readonly ImportStatus[] = ["queued", "running", "cancelling"];
const FINISHED: readonly ImportStatus[] = ["cancelled", "completed", "failed"];
const MAX_CONCURRENT = 1;
/** An import interrupted this many times in a row (crash loop) is marked failed. */
const MAX_RESUMES = 3;
const MAX_TAGS = 10;
const WORKER = "app/workers/contact-import.worker.ts";

/** The stored options: what the form chose plus the workspace's country at that time. */
export interface StoredImportOptions extends ImportOptions {
  defaultCountry: string;
}

export interface ImportSummary {
  id: string;
  status: ImportStatus;
  fileName: string;
  fileBytes: number;
  format: CsvFormat | null;
  mapping: ImportField[] | null;
  options: StoredImportOptions | null;
  counts: ImportCounts;
  error: string | null;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface ImportProgress extends ImportSummary {
  /** 0–100, from bytes read of the file. */
  percent: number;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
  /** True while this process runs it (counts include the open transaction). */
  live: boolean;
}

export class ImportTooLargeError extends AppError {
  constructor(limit: number) {
    super(
      `The file is larger than ${formatMegabytes(limit)}, the most one import takes. Split it into smaller files and import them one after the other.`,
      413,
      "file_too_large",
    );
  }
}

export function formatMegabytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : Number(mb.toFixed(1))} MB`;
}

export function importUploadLimit(): number {
  return getEnv().IMPORT_MAX_BYTES;
}

const IMPORT_ID = /^imp_[0-9a-f]{20}$/;

export function isImportId(value: string | undefined | null): value is string {
  return typeof value === "string" && IMPORT_ID.test(value);
}

/** A workspace's file for a unit of work outside any request (worker events, boot). */
function inTenant<T>(workspaceId: string, fn: (db: TenantDb) => T): T {
  const scope = createTenantScope();
  try {
    return scope.run(() => fn(getTenantDb(workspaceId)));
  } finally {
    scope.release();
  }
}

function uploadsDir(workspaceId: string): string {
  return join(getEnv().DATA_DIR, "uploads", workspaceId);
}

function absolutePath(relative: string): string {
  return join(getEnv().DATA_DIR, relative);
}

function lockPath(workspaceId: string, importId: string): string {
  return join(uploadsDir(workspaceId), `${importId}.lock`);
}

type ImportRow = typeof contactImports.$inferSelect;

function toSummary(row: ImportRow): ImportSummary {
  let format: CsvFormat | null = null;
  let options: StoredImportOptions | null = null;
  let mapping: ImportField[] | null = null;
  try {
    format = row.format ? parseCsvFormat(row.format) : null;
    mapping = row.mapping ? (JSON.parse(row.mapping) as ImportField[]) : null;
    if (row.options) {
      const parsed = JSON.parse(row.options) as { defaultCountry?: unknown };
      options = {
        ...parseImportOptions(row.options),
        defaultCountry: String(parsed.defaultCountry ?? ""),
      };
    }
  } catch {
    // A record this code did not write: shown with what is readable.
  }
  return {
    id: row.id,
    status: row.status,
    fileName: row.fileName,
    fileBytes: row.fileBytes,
    format,
    mapping,
    options,
    counts: {
      rowsDone: row.rowsDone,
      bytesDone: row.bytesDone,
      imported: row.imported,
      updated: row.updated,
      skipped: row.skipped,
      suppressed: row.suppressed,
      errors: row.errors,
      warnings: row.warnings,
    },
    error: row.error,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

function findRow(db: TenantDb, id: string): ImportRow {
  const row = isImportId(id)
    ? db.select().from(contactImports).where(eq(contactImports.id, id)).get()
    : undefined;
  if (!row) throw new NotFoundError("Import");
  return row;
}

export function getImport(ctx: WorkspaceContext, id: string): ImportSummary {
  return toSummary(findRow(ctx.db, id));
}

export function listImports(ctx: WorkspaceContext, options: { limit?: number } = {}) {
  const limit = Math.min(Math.max(options.limit ?? 20, 1), 100);
  return ctx.db
    .select()
    .from(contactImports)
    .orderBy(desc(contactImports.createdAt))
    .limit(limit)
    .all()
    .map((row) => withLive(ctx.workspaceId, toSummary(row)));
}

// ---------------------------------------------------------------------------------------------
// Upload

export interface Upload {
  fileName: string;
  /** The file's bytes, as they arrive (a multipart part, a file stream). */
  data: AsyncIterable<Uint8Array>;
}

function cleanFileName(name: string): string {
  const base = [...basename(name.replace(/\\/g, "/"))]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join("")
    .trim();
  return (base || "upload.csv").slice(0, 200);
}

/** Removes uploads that were never started, a day after they came in. */
function dropStaleUploads(ctx: WorkspaceContext): void {
  const dayAgo = new Date(ctx.now().getTime() - 24 * 60 * 60 * 1000);
  const stale = ctx.db
    .select({ id: contactImports.id, filePath: contactImports.filePath })
    .from(contactImports)
    .where(
      and(
        eq(contactImports.status, "uploaded"),
        sql`${contactImports.createdAt} < ${dayAgo.getTime()}`,
      ),
    )
    .all();
  for (const row of stale) {
    rmSync(absolutePath(row.filePath), { force: true });
    ctx.db
      .update(contactImports)
      .set({
        status: "cancelled",
        finishedAt: ctx.now(),
        error: "Not started within a day of the upload.",
      })
      .where(eq(contactImports.id, row.id))
      .run();
  }
}

/** Drops an upload that was never started (its form was refused): the row and the file. */
export function discardUpload(ctx: WorkspaceContext, id: string): void {
  const row = ctx.db
    .delete(contactImports)
    .where(and(eq(contactImports.id, id), eq(contactImports.status, "uploaded")))
    .returning({ filePath: contactImports.filePath })
    .get();
  if (row) rmSync(absolutePath(row.filePath), { force: true });
}

/**
 * Streams an upload to DATA_DIR/uploads/<workspace>/<import>.csv (never more than
 * IMPORT_MAX_BYTES on disk), then reads its format, headers and first rows. A file that is too
 * large, empty, binary or not CSV is removed again and refused with a message saying why.
 */
export async function createImport(
  ctx: WorkspaceContext,
  upload: Upload,
): Promise<{ import: ImportSummary; sniff: CsvSniff }> {
  const limit = importUploadLimit();
  const id = `imp_${randomBytes(10).toString("hex")}`;
  const dir = uploadsDir(ctx.workspaceId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const relative = join("uploads", ctx.workspaceId, `${id}.csv`);
  const final = absolutePath(relative);
  const partial = `${final}.part`;
  let bytes = 0;
  try {
    const out = createWriteStream(partial, { mode: 0o600 });
    const closed = once(out, "close");
    try {
      for await (const chunk of upload.data) {
        bytes += chunk.byteLength;
        if (bytes > limit) throw new ImportTooLargeError(limit);
        if (!out.write(chunk)) await once(out, "drain");
      }
    } finally {
      out.end();
      await closed;
    }
    if (bytes === 0) throw new ValidationError("The file is empty. Upload a CSV file with rows.");
    renameSync(partial, final);
    const sniff = await sniffCsvFile(final);
    if (sniff.preview.length === 0) {
      throw new ValidationError(
        "The file has a header row but no contacts under it. Add rows and upload it again.",
      );
    }
    dropStaleUploads(ctx);
    const format: CsvFormat = {
      encoding: sniff.encoding,
      bomBytes: sniff.bomBytes,
      delimiter: sniff.delimiter,
      headers: sniff.headers,
      estimatedRows: sniff.estimatedRows,
    };
    const row = ctx.db
      .insert(contactImports)
      .values({
        id,
        status: "uploaded",
        fileName: cleanFileName(upload.fileName),
        filePath: relative,
        fileBytes: bytes,
        format: JSON.stringify(format),
        createdBy: ctx.actor.id ?? ctx.actor.type,
        createdAt: ctx.now(),
      })
      .returning()
      .get();
    return { import: toSummary(row), sniff };
  } catch (error) {
    rmSync(partial, { force: true });
    rmSync(final, { force: true });
    throw error;
  }
}

export interface ImportPreview {
  headers: string[];
  rows: string[][];
  /** The stored mapping, or the one guessed from the headers. */
  mapping: ImportField[];
  definitions: AttributeDefinition[];
  format: CsvFormat;
}

/** The mapping step's data: headers, the first rows as read from the file, and the guesses. */
export async function getImportPreview(ctx: WorkspaceContext, id: string): Promise<ImportPreview> {
  const row = findRow(ctx.db, id);
  const summary = toSummary(row);
  if (!summary.format) throw new NotFoundError("Import");
  const definitions = listAttributeDefinitions(ctx.db);
  let rows: string[][] = [];
  try {
    rows = (await sniffCsvFile(absolutePath(row.filePath))).preview;
  } catch {
    rows = [];
  }
  return {
    headers: summary.format.headers,
    rows,
    mapping: summary.mapping ?? guessMapping(summary.format.headers, definitions),
    definitions,
    format: summary.format,
  };
}

// ---------------------------------------------------------------------------------------------
// Mapping and options

/** The mapping value of a column that goes to an attribute created with the import. */
export const NEW_ATTRIBUTE_FIELD = "new_attribute";

/** A list-type attribute needs its values listed, so it is made on the attributes page. */
export const IMPORT_ATTRIBUTE_TYPES = ["text", "number", "date", "boolean"] as const;

export interface NewAttributeInput {
  label: string;
  type: string;
}

export interface ImportSettingsInput {
  /** One field per column (see ImportField), or NEW_ATTRIBUTE_FIELD. */
  mapping: readonly string[];
  /** Per column index mapped to NEW_ATTRIBUTE_FIELD: the attribute to create for it. */
  newAttributes?: Readonly<Record<number, NewAttributeInput>>;
  onExisting: string;
  /** An existing list to add everyone to. */
  listId?: number | null;
  /** Or a new list, created with this name. */
  newListName?: string | null;
  /** Tag names: existing ones are reused (case-insensitively), new ones created. */
  tags?: readonly string[];
  consentChannels?: readonly string[];
  consentSource?: string | null;
}

function fail(message: string, field: string): never {
  throw new ValidationError(message, { [field]: [message] });
}

/**
 * The attributes to create for columns mapped to NEW_ATTRIBUTE_FIELD, checked against each other
 * and the existing ones; the mapping with their `attribute:<key>` fields in place. Problems are
 * field errors next to the column (`column.<i>.label`, `column.<i>.type`).
 */
function planNewAttributes(
  mapping: readonly string[],
  input: ImportSettingsInput["newAttributes"],
  definitions: readonly AttributeDefinition[],
  headers: readonly string[],
): { mapping: string[]; create: NewAttributeDefinition[]; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const create: NewAttributeDefinition[] = [];
  const columnOfKey = new Map<string, number>();
  const resolved = mapping.map((field, i) => {
    if (field !== NEW_ATTRIBUTE_FIELD) return field;
    const labelField = `column.${i}.label`;
    const typeField = `column.${i}.type`;
    const wanted = input?.[i] ?? { label: "", type: "" };
    if (!(IMPORT_ATTRIBUTE_TYPES as readonly string[]).includes(wanted.type)) {
      errors[typeField] = ["Choose a type from the list."];
    }
    const checked = checkNewAttributeDefinition({ key: "", label: wanted.label, type: "text" });
    if (checked.errors) {
      const key = attributeKeyFromLabel(wanted.label);
      errors[labelField] = [
        checked.errors.label
          ? "Give the new attribute a label of up to 80 characters."
          : RESERVED_ATTRIBUTE_KEYS.has(key)
            ? `“${wanted.label.trim()}” is a built-in contact field. Choose it in the list above, or use another label.`
            : "Use a label with at least one Latin letter or digit, for example “City”.",
      ];
      return "ignore";
    }
    const { key, label } = checked.definition;
    const existing = definitions.find((d) => d.key === key);
    if (existing) {
      errors[labelField] = [
        `There is already an attribute “${existing.label}” (key ${key}). Choose “Attribute: ${existing.label}” in the list instead.`,
      ];
      return "ignore";
    }
    const earlier = columnOfKey.get(key);
    if (earlier !== undefined) {
      errors[labelField] = [
        `Column “${headers[earlier]}” already creates an attribute with the key ${key}. Use another label.`,
      ];
      return "ignore";
    }
    columnOfKey.set(key, i);
    if (!errors[typeField]) {
      create.push({ key, label, type: wanted.type as AttributeType, options: [] });
    }
    return `attribute:${key}`;
  });
  return { mapping: resolved, create, errors };
}

/**
 * Validates and stores the column mapping and the options. Consent is only recorded with a
 * stated source ("signed up on website form"): choosing a channel without one is refused.
 * Everything is checked first; then the new attributes, list and tags are created and the
 * settings stored in one transaction, so a refused form leaves nothing behind.
 */
export function setMapping(
  ctx: WorkspaceContext,
  id: string,
  input: ImportSettingsInput,
  context: { defaultCountry: string },
): ImportSummary {
  const row = findRow(ctx.db, id);
  if (row.status !== "uploaded") {
    throw new ValidationError("This import has already started; its settings can't change now.");
  }
  const format = parseCsvFormat(row.format);
  const definitions = listAttributeDefinitions(ctx.db);
  if (input.mapping.length !== format.headers.length) {
    throw new ValidationError("Choose a field for every column of the file.");
  }
  const planned = planNewAttributes(
    input.mapping,
    input.newAttributes,
    definitions,
    format.headers,
  );
  const plannedDefinitions: AttributeDefinition[] = [
    ...definitions,
    ...planned.create.map((d) => ({ ...d, createdAt: ctx.now() })),
  ];
  let mapping: ImportField[];
  try {
    mapping = validateMapping(format.headers, planned.mapping, plannedDefinitions);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const errors = { ...error.fieldErrors, ...planned.errors };
    if (Object.keys(errors).length)
      throw new ValidationError("Check the highlighted columns.", errors);
    throw error;
  }
  if (Object.keys(planned.errors).length) {
    throw new ValidationError("Check the highlighted columns.", planned.errors);
  }

  if (!ON_EXISTING.includes(input.onExisting as OnExisting)) {
    fail("Choose what happens to contacts that already exist.", "onExisting");
  }
  const channels = [...new Set(input.consentChannels ?? [])];
  for (const channel of channels) {
    if (!CHANNELS.includes(channel as Channel)) fail("Choose channels from the list.", "consent");
  }
  const source = (input.consentSource ?? "").trim().replace(/\s+/g, " ");
  if (channels.length > 0 && !source) {
    fail(
      "Say where these people gave their consent, for example “signed up on website form”. Consent without a source cannot be proven, so it is not recorded.",
      "consentSource",
    );
  }
  if (source.length > MAX_CONSENT_SOURCE) {
    fail(`Keep the source under ${MAX_CONSENT_SOURCE} characters.`, "consentSource");
  }
  const tagNames = [
    ...new Map(
      (input.tags ?? [])
        .map((t) => t.trim().replace(/\s+/g, " "))
        .filter(Boolean)
        .map((t) => [t.toLowerCase(), t] as const),
    ).values(),
  ];
  if (tagNames.length > MAX_TAGS) fail(`Add at most ${MAX_TAGS} tags per import.`, "tags");
  for (const name of tagNames) {
    const problem = groupNameProblem("tag", name);
    if (problem) fail(problem, "tags");
  }
  const newList = (input.newListName ?? "").trim();
  if (newList) {
    const problem = groupNameProblem("list", newList);
    if (problem) fail(problem, "newListName");
  } else if (input.listId !== undefined && input.listId !== null) {
    const found = listLists(ctx, { counts: false }).find((l) => l.id === input.listId);
    if (!found) fail("That list does not exist any more. Choose another.", "listId");
  }

  const { updated, created } = ctx.db.transaction(
    (tx) => {
      const attributes = insertAttributeDefinitions(tx, planned.create, ctx.now());
      const list = newList ? findOrInsertGroup(tx, "list", newList, ctx.now()) : null;
      const tags = tagNames.map((name) => findOrInsertGroup(tx, "tag", name, ctx.now()));
      const options: StoredImportOptions = {
        onExisting: input.onExisting as OnExisting,
        listId: list ? list.id : (input.listId ?? null),
        tagIds: tags.map((t) => t.id),
        consent: channels.length ? { channels: channels as Channel[], source } : null,
        defaultCountry: context.defaultCountry,
      };
      const stored = tx
        .update(contactImports)
        .set({ mapping: JSON.stringify(mapping), options: JSON.stringify(options) })
        .where(and(eq(contactImports.id, id), eq(contactImports.status, "uploaded")))
        .returning()
        .get();
      if (!stored) {
        throw new ValidationError(
          "This import has already started; its settings can't change now.",
        );
      }
      return {
        updated: stored,
        created: {
          attributes,
          list: list?.created ? list.id : null,
          tags: tags.filter((t) => t.created).map((t) => t.id),
        },
      };
    },
    { behavior: "immediate" },
  );
  for (const definition of created.attributes) auditAttributeCreated(ctx, definition);
  if (created.list !== null) auditGroupCreated(ctx, "list", created.list);
  for (const tagId of created.tags) auditGroupCreated(ctx, "tag", tagId);
  return toSummary(updated);
}

// ---------------------------------------------------------------------------------------------
// Running

interface Job {
  workspaceId: string;
  importId: string;
  actor: Actor;
  request?: RequestInfo;
  resumes: number;
}

interface Run {
  job: Job;
  writer: Worker | null;
  parser: Worker | null;
  live: ImportCounts | null;
  startedAt: number;
  startRows: number;
  startBytes: number;
  cancelling: boolean;
  outcome: Extract<WriterReport, { type: "done" }> | null;
}

interface Runner {
  /** Set on shutdown: runs end without an outcome and resume at the next start. */
  stopping: boolean;
  queue: Job[];
  running: Map<string, Run>;
  waiters: Map<string, ((summary: ImportSummary) => void)[]>;
  tuning: ImportTuning;
}

const runner = singleton<Runner>("contact-import-runner", () => ({
  stopping: false,
  queue: [],
  running: new Map(),
  waiters: new Map(),
  tuning: { ...DEFAULT_TUNING },
}));

/** For the benchmark and tests: transaction sizes, batch sizes, thread priority. */
export function setImportTuning(tuning: Partial<ImportTuning>): void {
  runner.tuning = { ...runner.tuning, ...tuning };
}

function withLive(workspaceId: string, summary: ImportSummary): ImportSummary {
  const run = runner.running.get(summary.id);
  if (!run || run.job.workspaceId !== workspaceId) return summary;
  return {
    ...summary,
    status: run.cancelling && summary.status === "running" ? "cancelling" : summary.status,
    counts: run.live && run.live.rowsDone >= summary.counts.rowsDone ? run.live : summary.counts,
  };
}

/** Starts a mapped import: it runs as soon as no other import runs in this process. */
export function startImport(ctx: WorkspaceContext, id: string): ImportSummary {
  const row = findRow(ctx.db, id);
  if (row.status !== "uploaded") {
    throw new ValidationError("This import has already been started.");
  }
  if (!row.mapping || !row.options) {
    throw new ValidationError("Choose the columns and options before starting the import.");
  }
  const queued = ctx.db
    .update(contactImports)
    .set({ status: "queued" })
    .where(and(eq(contactImports.id, id), eq(contactImports.status, "uploaded")))
    .returning()
    .get();
  if (!queued) throw new ValidationError("This import has already been started.");
  runner.queue.push({
    workspaceId: ctx.workspaceId,
    importId: id,
    actor: ctx.actor,
    request: ctx.request,
    resumes: 0,
  });
  pump();
  return toSummary(queued);
}

function pump(): void {
  while (!runner.stopping && runner.running.size < MAX_CONCURRENT && runner.queue.length > 0) {
    const job = runner.queue.shift()!;
    try {
      launch(job);
    } catch (error) {
      logger.error({ err: error, importId: job.importId }, "starting a contact import failed");
      finishWithoutWorker(job, "failed", "The import could not be started. Try again.");
    }
  }
}

function writeLock(job: Job): void {
  writeFileSync(
    lockPath(job.workspaceId, job.importId),
    JSON.stringify({ pid: process.pid, resumes: job.resumes }),
    { mode: 0o600 },
  );
}

function readLock(workspaceId: string, importId: string): { pid: number; resumes: number } | null {
  try {
    const value = JSON.parse(readFileSync(lockPath(workspaceId, importId), "utf8")) as {
      pid?: unknown;
      resumes?: unknown;
    };
    return { pid: Number(value.pid) || 0, resumes: Number(value.resumes) || 0 };
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function removeFiles(workspaceId: string, importId: string, filePath?: string): void {
  rmSync(filePath ? absolutePath(filePath) : join(uploadsDir(workspaceId), `${importId}.csv`), {
    force: true,
  });
  rmSync(lockPath(workspaceId, importId), { force: true });
}

function launch(job: Job): void {
  const prepared = inTenant(job.workspaceId, (db) => {
    const row = findRow(db, job.importId);
    if (row.status === "cancelling") {
      return { cancelled: true as const };
    }
    if (row.status !== "queued" && row.status !== "running") return null;
    const options = JSON.parse(row.options ?? "null") as StoredImportOptions | null;
    if (!row.mapping || !options) throw new Error("import has no mapping");
    const suppressionsUpTo = db.$client
      .prepare("SELECT coalesce(max(rowid), 0) FROM suppressions")
      .pluck()
      .get() as number;
    const data: Omit<ImportWorkerData, "role" | "port"> = {
      workspaceId: job.workspaceId,
      dbPath: tenantDbPath(job.workspaceId),
      importId: job.importId,
      filePath: absolutePath(row.filePath),
      fileBytes: row.fileBytes,
      format: parseCsvFormat(row.format),
      mapping: JSON.parse(row.mapping) as ImportField[],
      options: parseImportOptions(row.options),
      definitions: listAttributeDefinitions(db),
      defaultCountry: options.defaultCountry,
      suppressionKey: suppressionKey(db).toString("base64"),
      controlDbPath: controlDbPath(),
      subjectIndexKey: getSubjectIndexKey().toString("base64"),
      suppressionsUpTo,
      skipRows: row.rowsDone,
      actorType: job.actor.type,
      tuning: runner.tuning,
    };
    if (!existsSync(data.filePath)) {
      return { missing: true as const, row };
    }
    db.update(contactImports)
      .set({ status: "running", startedAt: row.startedAt ?? new Date() })
      .where(eq(contactImports.id, job.importId))
      .run();
    return { data, row };
  });
  if (!prepared) return;
  if ("cancelled" in prepared) {
    finishWithoutWorker(job, "cancelled", null);
    return;
  }
  if ("missing" in prepared) {
    finishWithoutWorker(job, "failed", "The uploaded file is gone, so the import cannot run.");
    return;
  }
  const { data, row } = prepared;
  writeLock(job);

  const run: Run = {
    job,
    writer: null,
    parser: null,
    live: null,
    startedAt: Date.now(),
    startRows: row.rowsDone,
    startBytes: row.bytesDone,
    cancelling: false,
    outcome: null,
  };
  runner.running.set(job.importId, run);

  const { port1, port2 } = new MessageChannel();
  // Bounded heaps keep the process's memory flat. The parser allocates a few short-lived
  // strings per cell: a young generation of 48 MB keeps its garbage collection to about 5% of
  // its time (24 MB: ~1.3 s more CPU per million rows, on threads the writer needs; 8 MB: a
  // fifth); the writer allocates little.
  const writer = startWorker(WORKER, {
    workerData: { ...data, role: "write" },
    name: "import-writer",
    resourceLimits: { maxOldGenerationSizeMb: data.tuning.heapMb, maxYoungGenerationSizeMb: 16 },
  });
  const parser = startWorker(WORKER, {
    workerData: { ...data, role: "parse" },
    name: "import-parser",
    resourceLimits: { maxOldGenerationSizeMb: data.tuning.heapMb, maxYoungGenerationSizeMb: 48 },
  });
  run.writer = writer;
  run.parser = parser;
  // The channel's ends travel as the first message: workerData can't transfer ports here.
  writer.postMessage({ port: port1 }, [port1]);
  parser.postMessage({ port: port2 }, [port2]);

  let parserFailed = false;
  const abortWriter = (message: string) => {
    if (parserFailed || run.outcome) return;
    parserFailed = true;
    writer.postMessage({ type: "abort", message } satisfies MainToWriter);
  };
  parser.on("error", (error) => {
    logger.error({ err: error, importId: job.importId }, "contact import parser crashed");
    abortWriter("The import stopped because the file could not be processed to the end.");
  });
  parser.on("exit", (code) => {
    if (code !== 0)
      abortWriter("The import stopped because the file could not be processed to the end.");
  });
  writer.on("message", (report: WriterReport) => {
    if (report.type === "progress") run.live = report.counts;
    else {
      run.outcome = report;
      run.live = report.counts;
    }
  });
  writer.on("error", (error) => {
    logger.error({ err: error, importId: job.importId }, "contact import writer crashed");
  });
  writer.on("exit", () => {
    void parser.terminate();
    settle(run);
  });
}

/** A run's end: the outcome recorded (or failure if the writer died), files removed, audited. */
function settle(run: Run): void {
  const { job } = run;
  runner.running.delete(job.importId);
  if (runner.stopping) return;
  try {
    const summary = inTenant(job.workspaceId, (db) => {
      let row = findRow(db, job.importId);
      if (!run.outcome || !FINISHED.includes(row.status)) {
        db.update(contactImports)
          .set({
            status: "failed",
            finishedAt: new Date(),
            error:
              row.error ??
              "The import stopped unexpectedly. The rows counted were imported; import the file again to add the rest.",
          })
          .where(eq(contactImports.id, job.importId))
          .run();
        row = findRow(db, job.importId);
      }
      removeFiles(job.workspaceId, job.importId, row.filePath);
      return toSummary(row);
    });
    audit(job, summary);
    resolveWaiters(summary);
  } catch (error) {
    logger.error({ err: error, importId: job.importId }, "finishing a contact import failed");
  }
  pump();
}

function finishWithoutWorker(job: Job, status: "cancelled" | "failed", error: string | null) {
  try {
    const summary = inTenant(job.workspaceId, (db) => {
      const row = db
        .update(contactImports)
        .set({ status, error, finishedAt: new Date() })
        .where(eq(contactImports.id, job.importId))
        .returning()
        .get();
      if (!row) return null;
      removeFiles(job.workspaceId, job.importId, row.filePath);
      return toSummary(row);
    });
    if (summary) {
      audit(job, summary);
      resolveWaiters(summary);
    }
  } catch (err) {
    logger.error({ err, importId: job.importId }, "closing a contact import failed");
  }
}

/** "contacts.imported" with the counts and options: never names, addresses or the file name. */
function audit(job: Job, summary: ImportSummary): void {
  const c = summary.counts;
  recordAudit(
    { actor: job.actor, request: job.request, now: () => new Date() },
    {
      action: "contacts.imported",
      workspaceId: job.workspaceId,
      target: { type: "contact_import", id: summary.id },
      details: {
        status: summary.status,
        rows: c.rowsDone,
        imported: c.imported,
        updated: c.updated,
        skipped: c.skipped,
        suppressed: c.suppressed,
        errors: c.errors,
        warnings: c.warnings,
        bytes: summary.fileBytes,
        onExisting: summary.options?.onExisting ?? null,
        list: summary.options?.listId ?? null,
        tags: summary.options?.tagIds.length ?? 0,
        consentChannels: summary.options?.consent?.channels ?? [],
        resumed: job.resumes > 0,
      },
    },
  );
}

function resolveWaiters(summary: ImportSummary): void {
  const waiting = runner.waiters.get(summary.id) ?? [];
  runner.waiters.delete(summary.id);
  for (const resolve of waiting) resolve(summary);
}

/**
 * Resolves once the import has finished (completed, cancelled or failed), whichever process
 * runs it: the CLI and tests wait with this.
 */
export function waitForImport(workspaceId: string, id: string): Promise<ImportSummary> {
  return new Promise((resolve, reject) => {
    const check = () => inTenant(workspaceId, (db) => toSummary(findRow(db, id)));
    let summary: ImportSummary;
    try {
      summary = check();
    } catch (error) {
      reject(error);
      return;
    }
    if (FINISHED.includes(summary.status) && !runner.running.has(id)) {
      resolve(summary);
      return;
    }
    const queuedHere = runner.queue.some((j) => j.importId === id);
    if (runner.running.has(id) || queuedHere) {
      const list = runner.waiters.get(id) ?? [];
      list.push(resolve);
      runner.waiters.set(id, list);
      return;
    }
    // Run by another process: poll its stored state.
    const timer = setInterval(() => {
      try {
        const now = check();
        if (FINISHED.includes(now.status)) {
          clearInterval(timer);
          resolve(now);
        }
      } catch (error) {
        clearInterval(timer);
        reject(error);
      }
    }, 200);
  });
}

/**
 * Stops an import. Rows already written stay (they are counted in the summary); an import that
 * has not started yet is simply dropped with its file.
 */
export function cancelImport(ctx: WorkspaceContext, id: string): ImportSummary {
  const row = findRow(ctx.db, id);
  if (FINISHED.includes(row.status)) {
    throw new ValidationError("This import has already finished.");
  }
  const run = runner.running.get(id);
  if (run && run.job.workspaceId === ctx.workspaceId) {
    // The writer notices between batches and records "cancelled" itself: no second writer
    // competes for the workspace's write lock here.
    if (!run.cancelling) {
      run.cancelling = true;
      run.writer?.postMessage({ type: "cancel" } satisfies MainToWriter);
    }
    recordCancelRequest(ctx, id);
    return withLive(ctx.workspaceId, toSummary(row));
  }
  const index = runner.queue.findIndex((j) => j.importId === id);
  if (row.status === "uploaded" || index >= 0 || row.status === "queued") {
    if (index >= 0) runner.queue.splice(index, 1);
    const done = ctx.db
      .update(contactImports)
      .set({ status: "cancelled", finishedAt: ctx.now() })
      .where(eq(contactImports.id, id))
      .returning()
      .get()!;
    removeFiles(ctx.workspaceId, id, done.filePath);
    recordCancelRequest(ctx, id);
    const summary = toSummary(done);
    if (row.status !== "uploaded") {
      audit(
        {
          workspaceId: ctx.workspaceId,
          importId: id,
          actor: ctx.actor,
          request: ctx.request,
          resumes: 0,
        },
        summary,
      );
    }
    resolveWaiters(summary);
    return summary;
  }
  // Running in another process (the CLI): it reads the status between batches.
  const updated = ctx.db
    .update(contactImports)
    .set({ status: "cancelling" })
    .where(and(eq(contactImports.id, id), eq(contactImports.status, "running")))
    .returning()
    .get();
  recordCancelRequest(ctx, id);
  return toSummary(updated ?? row);
}

function recordCancelRequest(ctx: WorkspaceContext, id: string): void {
  recordAudit(ctx, {
    action: "contacts.import_cancelled",
    workspaceId: ctx.workspaceId,
    target: { type: "contact_import", id },
  });
}

/** Stored state plus this process's live counts, with the rate and the time left. */
export function getImportProgress(ctx: WorkspaceContext, id: string): ImportProgress {
  const summary = withLive(ctx.workspaceId, toSummary(findRow(ctx.db, id)));
  const run = runner.running.get(id);
  const c = summary.counts;
  const finished = FINISHED.includes(summary.status);
  const percent = finished
    ? summary.status === "completed"
      ? 100
      : Math.min(100, (100 * c.bytesDone) / Math.max(1, summary.fileBytes))
    : Math.min(99, (100 * c.bytesDone) / Math.max(1, summary.fileBytes));
  let rowsPerSecond: number | null = null;
  let etaSeconds: number | null = null;
  const now = ctx.now().getTime();
  if (finished && summary.startedAt && summary.finishedAt) {
    const seconds = (summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000;
    rowsPerSecond = seconds > 0 ? Math.round(c.rowsDone / seconds) : null;
  } else if (summary.status === "running" || summary.status === "cancelling") {
    const since = run ? run.startedAt : summary.startedAt?.getTime();
    const rows = c.rowsDone - (run ? run.startRows : 0);
    const bytes = c.bytesDone - (run ? run.startBytes : 0);
    const seconds = since ? (now - since) / 1000 : 0;
    if (seconds >= 1 && rows > 0) {
      rowsPerSecond = Math.round(rows / seconds);
      const bytesPerSecond = bytes / seconds;
      etaSeconds =
        bytesPerSecond > 0
          ? Math.max(0, Math.round((summary.fileBytes - c.bytesDone) / bytesPerSecond))
          : null;
    }
  }
  return {
    ...summary,
    percent: Math.round(percent * 10) / 10,
    rowsPerSecond,
    etaSeconds,
    live: Boolean(run),
  };
}

/** The rejected rows as CSV chunks (Row, Column, Reason), read a page at a time. */
export function* exportImportErrors(ctx: WorkspaceContext, id: string): Generator<string> {
  findRow(ctx.db, id);
  yield csvLine(["Row", "Column", "Reason"]);
  const page = ctx.db.$client.prepare(
    `SELECT rowid AS seq, "row", "column", reason FROM contact_import_errors
     WHERE import_id = ? AND ("row" > ? OR ("row" = ? AND rowid > ?))
     ORDER BY "row", rowid LIMIT 1000`,
  );
  let after = { row: -1, seq: -1 };
  for (;;) {
    const rows = page.all(id, after.row, after.row, after.seq) as {
      seq: number;
      row: number;
      column: string;
      reason: string;
    }[];
    if (rows.length === 0) return;
    yield rows.map((r) => csvLine([r.row, r.column, r.reason])).join("");
    const last = rows[rows.length - 1]!;
    after = { row: last.row, seq: last.seq };
  }
}

/** The first rejected rows, for the summary page. */
export function listImportErrors(ctx: WorkspaceContext, id: string, limit = 20) {
  findRow(ctx.db, id);
  return ctx.db
    .select({
      row: contactImportErrors.row,
      column: contactImportErrors.column,
      reason: contactImportErrors.reason,
    })
    .from(contactImportErrors)
    .where(eq(contactImportErrors.importId, id))
    .orderBy(contactImportErrors.row, sql`rowid`)
    .limit(limit)
    .all();
}

/** The first values left out of kept rows, for the summary page. */
export function listImportWarnings(ctx: WorkspaceContext, id: string, limit = 20) {
  findRow(ctx.db, id);
  return ctx.db
    .select({
      row: contactImportWarnings.row,
      column: contactImportWarnings.column,
      reason: contactImportWarnings.reason,
    })
    .from(contactImportWarnings)
    .where(eq(contactImportWarnings.importId, id))
    .orderBy(contactImportWarnings.row, sql`rowid`)
    .limit(limit)
    .all();
}

// ---------------------------------------------------------------------------------------------
// Startup recovery

export interface RecoveryReport {
  resumed: number;
  cancelled: number;
  failed: number;
  removed: number;
}

/**
 * Called once at boot. Imports that a crash or restart left queued or running are resumed from
 * their last commit (their counts, rejected rows and contacts all agree up to it), unless they
 * were interrupted MAX_RESUMES times already (then they are marked failed); imports being
 * cancelled become cancelled. Another live process's imports (the CLI's) are left alone, and
 * files of finished or unknown imports are removed.
 */
export function recoverImports(): RecoveryReport {
  const report: RecoveryReport = { resumed: 0, cancelled: 0, failed: 0, removed: 0 };
  runner.stopping = false;
  const root = join(getEnv().DATA_DIR, "uploads");
  if (!existsSync(root)) return report;
  const system: Actor = { type: "system", id: "import-recovery" };
  for (const workspaceId of readdirSync(root)) {
    if (!isWorkspaceId(workspaceId)) continue;
    const ids = new Set(
      readdirSync(join(root, workspaceId))
        .map((name) => /^(imp_[0-9a-f]{20})\.(csv|lock|csv\.part)$/.exec(name)?.[1])
        .filter((id): id is string => Boolean(id)),
    );
    try {
      inTenant(workspaceId, (db) => {
        for (const importId of ids) {
          if (runner.running.has(importId) || runner.queue.some((j) => j.importId === importId)) {
            continue;
          }
          const row = db.select().from(contactImports).where(eq(contactImports.id, importId)).get();
          rmSync(join(root, workspaceId, `${importId}.csv.part`), { force: true });
          if (!row || FINISHED.includes(row.status)) {
            removeFiles(workspaceId, importId, row?.filePath);
            report.removed++;
            continue;
          }
          if (!ACTIVE.includes(row.status)) continue;
          const lock = readLock(workspaceId, importId);
          if (lock && isAlive(lock.pid)) continue;
          const job: Job = {
            workspaceId,
            importId,
            actor: system,
            resumes: (lock?.resumes ?? 0) + 1,
          };
          if (row.status === "cancelling") {
            finishWithoutWorker(job, "cancelled", null);
            report.cancelled++;
          } else if (job.resumes > MAX_RESUMES) {
            finishWithoutWorker(
              job,
              "failed",
              "The import stopped unexpectedly several times and was given up. The rows counted were imported; import the rest of the file again.",
            );
            report.failed++;
          } else {
            db.update(contactImports)
              .set({ status: "queued" })
              .where(eq(contactImports.id, importId))
              .run();
            runner.queue.push(job);
            report.resumed++;
          }
        }
      });
    } catch (error) {
      if (error instanceof NotFoundError) {
        // The workspace's data is gone: so is any reason to keep its uploads.
        rmSync(join(root, workspaceId), { recursive: true, force: true });
        continue;
      }
      logger.error({ err: error, workspaceId }, "recovering contact imports failed");
    }
  }
  if (report.resumed || report.cancelled || report.failed) {
    logger.info(report, "contact imports recovered");
  }
  pump();
  return report;
}

/** Ends this process's imports without recording an outcome; recoverImports resumes them. */
export async function stopImportsForShutdown(): Promise<void> {
  runner.stopping = true;
  runner.queue.length = 0;
  await Promise.all(
    [...runner.running.values()].flatMap((run) => [
      run.writer?.terminate(),
      run.parser?.terminate(),
    ]),
  );
}
