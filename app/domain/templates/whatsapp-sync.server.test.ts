import { and, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { templates } from "~/db/schema/tenant";
import { whatsappTemplateSync } from "~/jobs/whatsapp-template-sync.server";
import { reloadEnv } from "~/lib/env.server";
import { ValidationError } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import { createWhatsAppFake, metaError, type WhatsAppFake } from "../../../tests/fakes/whatsapp";
import { createAttributeDefinition } from "../contacts/attributes.server";
import type { WorkspaceContext } from "../context";
import { saveIntegration } from "../delivery/integrations.server";
import {
  canStartConversation,
  getWhatsAppTemplate,
  listWhatsAppTemplates,
  mapTemplateVariables,
  REMOVED_ON_META_REASON,
  submitWhatsAppTemplate,
  syncWhatsAppTemplates,
  unmappedVariables,
  WhatsAppTemplateError,
  type WhatsAppTemplateInput,
} from "./whatsapp-sync.server";
import { makeWorkspace } from "../../../tests/support/workspaces";

/**
 * WhatsApp templates against the Meta fake over HTTP: the real adapter, real workspace files,
 * the integration as the app stores it.
 */

let fake: WhatsAppFake;
let a: WorkspaceContext;
let b: WorkspaceContext;
let none: WorkspaceContext;
const NUMBER_A = { phoneNumberId: "1075550001", accessToken: "token-a", wabaId: "300100" };
const NUMBER_B = { phoneNumberId: "1075550002", accessToken: "token-b", wabaId: "300200" };
const TEMPLATES_A = `/v21.0/${NUMBER_A.wabaId}/message_templates`;

function connect(ctx: WorkspaceContext, n: typeof NUMBER_A): string {
  return saveIntegration(ctx, ctx.workspaceId, "whatsapp", {
    ...n,
    appSecret: "app-secret",
    verifyToken: "verify-me",
    ratePerSecond: 20,
  }).id;
}

function rowsOf(ctx: WorkspaceContext) {
  return ctx.db.select().from(templates).where(eq(templates.channel, "whatsapp")).all();
}

function rowNamed(ctx: WorkspaceContext, name: string, language = "en") {
  const row = ctx.db
    .select()
    .from(templates)
    .where(
      and(
        eq(templates.channel, "whatsapp"),
        eq(templates.name, name),
        eq(templates.language, language),
      ),
    )
    .get();
  if (!row) throw new Error(`no row ${name} ${language}`);
  return row;
}

function lastAudit(workspaceId: string, action: string) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, action)))
    .orderBy(desc(auditLog.id))
    .limit(1)
    .get();
}

/** The ValidationError `fn` rejected with (fails the test otherwise). */
async function refused(fn: () => Promise<unknown>): Promise<ValidationError> {
  const error = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

const SUBMISSION: WhatsAppTemplateInput = {
  name: "order_shipped",
  language: "en",
  category: "utility",
  headerText: "Your order",
  bodyText: "Hi {{1}}, your order {{2}} is on its way.",
  footerText: "Reply STOP to opt out",
  buttons: [
    { type: "URL", text: "Track it", url: "https://shop.example/track" },
    { type: "QUICK_REPLY", text: "Thanks" },
  ],
  examples: ["Ada", "#4521"],
  variableMap: { "1": "first_name", "2": "order_no" },
};

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER_A, NUMBER_B] });
  await fake.start();
  process.env.WHATSAPP_API_BASE_URL = fake.url;
  process.env.BASE_URL = "https://engage.test";
  process.env.PROVIDER_TIMEOUT_MS = "2000";
  reloadEnv();
  a = await makeWorkspace("wa-tpl-a");
  b = await makeWorkspace("wa-tpl-b");
  none = await makeWorkspace("wa-tpl-none");
  connect(a, NUMBER_A);
  connect(b, NUMBER_B);
  createAttributeDefinition(a, { key: "order_no", label: "Order number", type: "text" });
  createAttributeDefinition(a, { key: "city", label: "City", type: "text" });
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  fake.clearFaults();
  fake.clearRequests();
});

describe("syncWhatsAppTemplates", () => {
  it("imports every template across pages, then tracks Meta's decisions and removals", async () => {
    for (let i = 0; i < 205; i++) {
      fake.addTemplate({
        name: `bulk_${String(i).padStart(3, "0")}`,
        language: "en",
        category: "MARKETING",
        status: "PENDING",
        components: [{ type: "BODY", text: `Offer ${i} for {{1}} in {{2}}.` }],
        wabaId: NUMBER_A.wabaId,
      });
    }
    fake.addTemplate({
      name: "welcome",
      language: "hi",
      category: "UTILITY",
      components: [{ type: "BODY", text: "Namaste {{1}}!" }],
      wabaId: NUMBER_A.wabaId,
    });

    const first = await syncWhatsAppTemplates(a);
    expect(first).toEqual({ added: 206, updated: 0, unchanged: 0, removed: 0 });
    // limit=100: three pages for 206 templates.
    expect(fake.requests.filter((r) => r.path === TEMPLATES_A)).toHaveLength(3);
    expect(rowsOf(a)).toHaveLength(206);
    expect(rowsOf(b)).toHaveLength(0);

    const welcome = rowNamed(a, "welcome", "hi");
    expect(welcome).toMatchObject({
      category: "UTILITY",
      status: "approved",
      statusReason: null,
      externalId: expect.stringMatching(/^\d+$/),
      variables: "[]",
    });
    expect(welcome.syncedAt).toBeInstanceOf(Date);
    expect(JSON.parse(welcome.content)).toEqual({
      components: [{ type: "BODY", text: "Namaste {{1}}!" }],
      variableMap: {},
    });
    expect(canStartConversation(welcome)).toBe(true);
    const pending = rowNamed(a, "bulk_000");
    expect(pending.status).toBe("pending");
    expect(canStartConversation(pending)).toBe(false);
    expect(lastAudit(a.workspaceId, "template.synced")?.details).toBe(
      JSON.stringify({ added: 206, updated: 0, unchanged: 0, removed: 0 }),
    );

    // Meta decides: one approved, one rejected with a reason, one paused; one deleted.
    fake.setTemplateStatus("bulk_000", "en", "APPROVED");
    fake.setTemplateStatus("bulk_001", "en", "REJECTED", "TAG_CONTENT_MISMATCH");
    fake.setTemplateStatus("bulk_002", "en", "PAUSED");
    fake.setTemplateStatus("bulk_003", "en", "IN_APPEAL");
    fake.removeTemplate("bulk_004", "en");
    const second = await syncWhatsAppTemplates(a);
    expect(second).toEqual({ added: 0, updated: 3, unchanged: 202, removed: 1 });
    expect(rowNamed(a, "bulk_000").status).toBe("approved");
    expect(canStartConversation(rowNamed(a, "bulk_000"))).toBe(true);
    expect(rowNamed(a, "bulk_001")).toMatchObject({
      status: "rejected",
      statusReason: "TAG_CONTENT_MISMATCH",
    });
    expect(rowNamed(a, "bulk_002").status).toBe("paused");
    expect(canStartConversation(rowNamed(a, "bulk_002"))).toBe(false);
    expect(rowNamed(a, "bulk_003").status).toBe("pending");
    // Not deleted: campaigns may still point at it.
    expect(rowNamed(a, "bulk_004")).toMatchObject({
      status: "disabled",
      statusReason: REMOVED_ON_META_REASON,
    });

    // A rejected template fixed and approved loses its reason; a removed one stays disabled.
    fake.setTemplateStatus("bulk_001", "en", "APPROVED");
    expect(await syncWhatsAppTemplates(a)).toEqual({
      added: 0,
      updated: 1,
      unchanged: 204,
      removed: 0,
    });
    expect(rowNamed(a, "bulk_001")).toMatchObject({ status: "approved", statusReason: null });
    expect(rowNamed(a, "bulk_004").status).toBe("disabled");

    // Re-created on Meta under the same name: the row comes back with the new id.
    const oldId = rowNamed(a, "bulk_004").externalId;
    fake.addTemplate({
      name: "bulk_004",
      language: "en",
      components: [{ type: "BODY", text: "Back again {{1}}." }],
      wabaId: NUMBER_A.wabaId,
    });
    expect((await syncWhatsAppTemplates(a)).updated).toBe(1);
    expect(rowNamed(a, "bulk_004")).toMatchObject({ status: "approved", statusReason: null });
    expect(rowNamed(a, "bulk_004").externalId).not.toBe(oldId);

    for (let i = 0; i < 205; i++) fake.removeTemplate(`bulk_${String(i).padStart(3, "0")}`, "en");
  });

  it("keeps the variable mapping across syncs, dropping only placeholders that went away", async () => {
    fake.addTemplate({
      name: "reminder",
      language: "en",
      components: [{ type: "BODY", text: "Hi {{1}}, your {{2}} order ships from {{3}}." }],
      wabaId: NUMBER_A.wabaId,
    });
    await syncWhatsAppTemplates(a);
    const row = rowNamed(a, "reminder");
    const fresh = getWhatsAppTemplate(a, row.id);
    expect(fresh.placeholders).toBe(3);
    expect(unmappedVariables(fresh)).toEqual([1, 2, 3]);

    const mapped = mapTemplateVariables(a, row.id, {
      "1": "first_name",
      "2": "order_no",
      "3": "attributes.city",
    });
    expect(mapped.variableMap).toEqual({
      "1": "first_name",
      "2": "order_no",
      "3": "attributes.city",
    });
    expect(mapped.variables).toEqual(["first_name", "order_no", "attributes.city"]);
    expect(unmappedVariables(mapped)).toEqual([]);
    expect(JSON.parse(rowNamed(a, "reminder").variables)).toEqual([
      "first_name",
      "order_no",
      "attributes.city",
    ]);
    expect(lastAudit(a.workspaceId, "template.variables_mapped")?.targetId).toBe(String(row.id));

    // Nothing changed on Meta: the mapping stays, the row is unchanged.
    const again = await syncWhatsAppTemplates(a);
    expect(again.updated).toBe(0);
    expect(getWhatsAppTemplate(a, row.id).variableMap).toEqual(mapped.variableMap);

    // Meta's copy changes (approved edit): body loses {{3}}; {{1}} and {{2}} keep their fields.
    fake.addTemplate({
      name: "reminder",
      language: "en",
      components: [{ type: "BODY", text: "Hello {{1}}, order {{2}} is packed." }],
      wabaId: NUMBER_A.wabaId,
    });
    expect((await syncWhatsAppTemplates(a)).updated).toBe(1);
    const edited = getWhatsAppTemplate(a, row.id);
    expect(edited.variableMap).toEqual({ "1": "first_name", "2": "order_no" });
    expect(edited.variables).toEqual(["first_name", "order_no"]);
    expect(edited.components).toEqual([
      { type: "BODY", text: "Hello {{1}}, order {{2}} is packed." },
    ]);

    // An empty value unmaps; unknown fields and placeholders are refused with the reason.
    expect(mapTemplateVariables(a, row.id, { "1": "first_name", "2": "" }).variableMap).toEqual({
      "1": "first_name",
    });
    const unknownField = await refused(async () =>
      mapTemplateVariables(a, row.id, { "1": "favourite_colour" }),
    );
    expect(unknownField.message).toMatch(/favourite_colour.*not a contact field/);
    expect(unknownField.fieldErrors["variableMap.1"]).toBeDefined();
    const unknownPlaceholder = await refused(async () =>
      mapTemplateVariables(a, row.id, { "7": "first_name" }),
    );
    expect(unknownPlaceholder.message).toMatch(
      /\{\{7\}\} is not a variable.*\{\{1\}\} to \{\{2\}\}/,
    );
    expect(() => mapTemplateVariables(a, 999_999, {})).toThrow(/not found/);

    fake.removeTemplate("reminder", "en");
  });

  it("without a WhatsApp integration, submits to the sandbox and never calls Meta", async () => {
    fake.clearRequests();
    expect(await syncWhatsAppTemplates(none)).toEqual({
      added: 0,
      updated: 0,
      unchanged: 0,
      removed: 0,
    });
    const submitted = await submitWhatsAppTemplate(none, { ...SUBMISSION, variableMap: {} });
    expect(submitted).toMatchObject({ status: "pending", sandbox: true });
    expect(submitted.externalId).toMatch(/^sandbox_/);
    expect(fake.lastRequest()).toBeUndefined();
    // With a connected account, a media header is refused before Meta is asked.
    const media = await refused(() =>
      submitWhatsAppTemplate(a, {
        ...SUBMISSION,
        name: "media_header",
        headerFormat: "VIDEO",
        headerMediaUrl: "https://cafe.example/clip.mp4",
      }),
    );
    expect(media.fieldErrors.headerFormat?.[0]).toMatch(
      /^Templates with a video header are made in WhatsApp Manager/,
    );
    expect(fake.lastRequest()).toBeUndefined();
    // The scheduled sync below expects this workspace to have no templates.
    none.db.delete(templates).run();
  });

  it("reports Meta being unreachable or refusing the token without touching the rows", async () => {
    const before = rowsOf(a);
    fake.injectFault(metaError(2, "Service temporarily unavailable", 503), {
      times: 5,
      match: { path: TEMPLATES_A },
    });
    const outage = await syncWhatsAppTemplates(a).catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(WhatsAppTemplateError);
    expect((outage as Error).message).toMatch(
      /^Could not read the templates from WhatsApp: WhatsApp 2:/,
    );
    expect(rowsOf(a)).toEqual(before);
  });
});

describe("submitWhatsAppTemplate", () => {
  it("submits Meta's exact payload and stores the template as pending", async () => {
    const template = await submitWhatsAppTemplate(a, SUBMISSION);
    const request = fake.lastRequest("POST", TEMPLATES_A);
    const components = [
      { type: "HEADER", format: "TEXT", text: "Your order" },
      {
        type: "BODY",
        text: "Hi {{1}}, your order {{2}} is on its way.",
        example: { body_text: [["Ada", "#4521"]] },
      },
      { type: "FOOTER", text: "Reply STOP to opt out" },
      {
        type: "BUTTONS",
        buttons: [
          { type: "URL", text: "Track it", url: "https://shop.example/track" },
          { type: "QUICK_REPLY", text: "Thanks" },
        ],
      },
    ];
    expect(request?.json).toEqual({
      name: "order_shipped",
      language: "en",
      category: "UTILITY",
      components,
    });
    expect(request?.headers.authorization).toBe(`Bearer ${NUMBER_A.accessToken}`);
    expect(template).toMatchObject({
      name: "order_shipped",
      language: "en",
      category: "UTILITY",
      status: "pending",
      statusReason: null,
      externalId: expect.stringMatching(/^\d+$/),
      components,
      variableMap: { "1": "first_name", "2": "order_no" },
      variables: ["first_name", "order_no"],
      placeholders: 2,
    });
    expect(canStartConversation(template)).toBe(false);
    expect(rowNamed(a, "order_shipped")).toMatchObject({ status: "pending", id: template.id });
    const audit = lastAudit(a.workspaceId, "template.submitted");
    expect(audit?.targetId).toBe(String(template.id));
    expect(JSON.parse(audit?.details ?? "{}")).toMatchObject({ name: "order_shipped" });

    // A sync finds it unchanged; Meta's approval then reaches it with the mapping intact.
    expect((await syncWhatsAppTemplates(a)).added).toBe(0);
    fake.setTemplateStatus("order_shipped", "en", "APPROVED");
    await syncWhatsAppTemplates(a);
    const approved = getWhatsAppTemplate(a, template.id);
    expect(approved.status).toBe("approved");
    expect(approved.variableMap).toEqual({ "1": "first_name", "2": "order_no" });
    expect(canStartConversation(approved)).toBe(true);
    expect(listWhatsAppTemplates(a).map((t) => t.name)).toContain("order_shipped");
  });

  it("submits a plain body without examples, leaving variables for later", async () => {
    const t = await submitWhatsAppTemplate(a, {
      name: "store_open",
      language: "en_US",
      category: "MARKETING",
      bodyText: "Our store is open today.",
      examples: [],
    });
    expect(fake.lastRequest("POST", TEMPLATES_A)?.json).toEqual({
      name: "store_open",
      language: "en_US",
      category: "MARKETING",
      components: [{ type: "BODY", text: "Our store is open today." }],
    });
    expect(t).toMatchObject({ status: "pending", variables: [], placeholders: 0 });
  });

  it("does not disable a template submitted while a sync was reading the list", async () => {
    const t = await submitWhatsAppTemplate(a, { ...SUBMISSION, name: "racing_one" });
    fake.removeTemplate("racing_one", "en");
    // A sync that started reading before the submission: the row is newer than its list.
    const earlier = { ...a, now: () => new Date(t.updatedAt.getTime() - 1000) };
    expect((await syncWhatsAppTemplates(earlier)).removed).toBe(0);
    expect(getWhatsAppTemplate(a, t.id).status).toBe("pending");
    // The next sync sees it really is gone.
    expect((await syncWhatsAppTemplates(a)).removed).toBe(1);
    expect(getWhatsAppTemplate(a, t.id).status).toBe("disabled");
  });

  it("refuses invalid submissions with clear reasons, without calling Meta", async () => {
    const cases: [Partial<WhatsAppTemplateInput>, string, RegExp][] = [
      [{ name: "Order Shipped" }, "name", /lower-case letters, digits and underscores/],
      [{ name: "" }, "name", /Give the template a name/],
      [{ language: "English" }, "language", /language code/],
      [{ category: "PROMOTIONS" }, "category", /MARKETING or UTILITY/],
      [{ category: "AUTHENTICATION" }, "category", /Authentication/],
      [{ bodyText: "" }, "bodyText", /Write the message body/],
      [{ bodyText: `Hi {{1}} ${"x".repeat(1024)} {{2}}.` }, "bodyText", /at most 1024/],
      [{ bodyText: "Hi {{1}}, see {{3}} now." }, "bodyText", /\{\{2\}\} is missing/],
      [{ bodyText: "Hi {{name}}, see {{2}}." }, "bodyText", /numbered/],
      [{ bodyText: "{{1}}, your order {{2}} shipped." }, "bodyText", /start or end/],
      [{ examples: ["Ada"] }, "examples", /body has 2, 1 was given/],
      [{ examples: ["Ada", "#1", "extra"] }, "examples", /body has 2, 3 were given/],
      [{ examples: ["Ada", " "] }, "examples.2", /sample value for \{\{2\}\}/],
      [{ headerText: "Hi {{1}}" }, "headerText", /cannot contain variables/],
      [{ footerText: "f".repeat(61) }, "footerText", /at most 60/],
      [
        { buttons: [{ type: "URL", text: "Go", url: "not a url" }] },
        "buttons.1",
        /full web address/,
      ],
      [{ variableMap: { "1": "shoe_size" } }, "variableMap.1", /not a contact field/],
    ];
    for (const [change, field, reason] of cases) {
      const error = await refused(() =>
        submitWhatsAppTemplate(a, { ...SUBMISSION, name: "fresh_name", ...change }),
      );
      expect(error.fieldErrors[field]?.join(" "), `${field} for ${JSON.stringify(change)}`).toMatch(
        reason,
      );
      expect(error.message).toBeTruthy();
    }
    // Every problem at once, each under its field.
    const many = await refused(() =>
      submitWhatsAppTemplate(a, { ...SUBMISSION, name: "Bad", language: "?", category: "x" }),
    );
    expect(Object.keys(many.fieldErrors).sort()).toEqual(["category", "language", "name"]);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(0);
  });

  it("refuses a name and language that already exist, here or on Meta", async () => {
    await submitWhatsAppTemplate(a, { ...SUBMISSION, name: "dup_check" });
    const local = await refused(() =>
      submitWhatsAppTemplate(a, { ...SUBMISSION, name: "dup_check" }),
    );
    expect(local.fieldErrors.name?.[0]).toMatch(/already a WhatsApp template “dup_check” in en/);

    // Created on Meta by someone else, not synced yet: Meta's own refusal, in its words.
    fake.addTemplate({ name: "made_elsewhere", language: "en", wabaId: NUMBER_A.wabaId });
    const remote = await refused(() =>
      submitWhatsAppTemplate(a, { ...SUBMISSION, name: "made_elsewhere" }),
    );
    expect(remote.message).toMatch(/^WhatsApp did not accept the template: WhatsApp 100/);
    expect(remote.message).toContain("Content in this language already exists");
    expect(() => rowNamed(a, "made_elsewhere")).toThrow();
  });
});

describe("whatsapp-template-sync job", () => {
  it("syncs every workspace with WhatsApp; one failing (bad token) does not stop the others", async () => {
    fake.addTemplate({
      name: "b_only",
      language: "en",
      components: [{ type: "BODY", text: "For B" }],
      wabaId: NUMBER_B.wabaId,
    });
    const broken = await makeWorkspace("wa-tpl-broken");
    connect(broken, { phoneNumberId: "1075550003", accessToken: "revoked", wabaId: "300300" });

    const warnings: unknown[] = [];
    const log = logger.child({});
    log.warn = ((obj: unknown) => {
      warnings.push(obj);
    }) as typeof log.warn;
    const counts = await whatsappTemplateSync.run({ now: () => new Date(), log });
    expect(counts).toMatchObject({ workspaces: 2, failed: 1 });
    expect(warnings).toEqual([expect.objectContaining({ workspaceId: broken.workspaceId })]);
    expect(rowNamed(b, "b_only")).toMatchObject({ status: "approved" });
    expect(rowsOf(broken)).toHaveLength(0);
    expect(rowsOf(none)).toHaveLength(0);
    // The broken workspace's failure was Meta's 401 for the token.
    const error = await syncWhatsAppTemplates(broken).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/WhatsApp 190/);
    expect(whatsappTemplateSync.schedule).toBe("*/30 * * * *");
  });
});
