import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { campaigns, templates, type CampaignStatus } from "~/db/schema/tenant";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import { defineAttribute, insertContact } from "../../../tests/support/contacts";
import { getContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import {
  deleteTemplate,
  getTemplate,
  listTemplates,
  previewTemplate,
  renderForContact,
  saveTemplate,
  sendableReason,
  templateVariables,
  type Template,
  type TemplateInput,
} from "./templates.server";
import { thrown } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";

process.env.BASE_URL = "https://engage.test";

let clock = Date.parse("2030-06-01T08:00:00.000Z");
let ctx: WorkspaceContext;
let otherCtx: WorkspaceContext;

function fieldErrors(fn: () => unknown): Record<string, string[]> {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fieldErrors;
}

function workspace(slug: string): Promise<WorkspaceContext> {
  return makeWorkspace(slug, {
    name: slug,
    request: { ip: "203.0.113.8" },
    createdAt: () => new Date(clock),
    now: () => {
      clock += 60_000;
      return new Date(clock);
    },
  });
}

function insertCampaign(
  c: WorkspaceContext,
  name: string,
  status: CampaignStatus,
  templateIds: number[],
): number {
  const at = new Date(clock);
  return c.db
    .insert(campaigns)
    .values({
      name,
      channel: "email",
      status,
      audience: JSON.stringify({ type: "list", id: 1 }),
      variants: JSON.stringify(
        templateIds.map((templateId, i) => ({ key: String.fromCharCode(65 + i), templateId })),
      ),
      schedule: JSON.stringify({ type: "now" }),
      createdAt: at,
      updatedAt: at,
    })
    .returning({ id: campaigns.id })
    .get().id;
}

const email = (overrides: Partial<Extract<TemplateInput, { channel: "email" }>> = {}) =>
  ({
    channel: "email",
    name: "Welcome",
    subject: 'Welcome, {{ first_name | default: "friend" }}',
    preheader: 'Your {{ city | default: "local" }} store is open',
    blocks: [
      { type: "heading", text: "Hello {{ first_name }}" },
      { type: "paragraph", text: "Thanks for joining **{{ plan_tier | upcase }}**." },
      { type: "button", text: "Visit", url: "https://shop.example/?c={{ city | url_encode }}" },
    ],
    trackLinks: true,
    ...overrides,
  }) satisfies TemplateInput;

beforeAll(async () => {
  ctx = await workspace("templates-co");
  otherCtx = await workspace("templates-other");
  defineAttribute(ctx.db, "city", "text");
  defineAttribute(ctx.db, "plan_tier", "choice", ["gold", "silver"]);
});

describe("saving templates", () => {
  it("creates an email template from blocks, with derived HTML, text and variables", () => {
    const saved = saveTemplate(ctx, email());
    expect(saved).toMatchObject({
      channel: "email",
      name: "Welcome",
      language: "",
      status: "ready",
      variables: ["first_name", "city", "plan_tier"],
    });
    if (saved.channel !== "email") throw new Error("email");
    expect(saved.content.blocks).toHaveLength(3);
    expect(saved.content.html).toContain("<strong>{{ plan_tier | upcase }}</strong>");
    expect(saved.content.text).toBe(
      "Hello {{ first_name }}\n\nThanks for joining {{ plan_tier | upcase }}.\n\nVisit: https://shop.example/?c={{ city | url_encode }}",
    );
    expect(saved.content.textDerived).toBe(true);
    expect(getTemplate(ctx, saved.id)).toEqual(saved);

    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, "template.created")),
      )
      .all();
    expect(audit.map((a) => a.targetId)).toEqual([String(saved.id)]);
  });

  it("refuses unknown variables, naming the field and the variable", () => {
    const errors = fieldErrors(() =>
      saveTemplate(
        ctx,
        email({
          name: "Colours",
          subject: "For you, {{ favourite_colour }}",
          blocks: [
            { type: "paragraph", text: "Hi {{ first_name }} from {{ attributes.town }}" },
            { type: "button", text: "Go", url: "https://x.example/{{ shoe_size }}" },
          ],
          text: "Plain {{ favourite_colour }}",
        }),
      ),
    );
    expect(errors).toEqual({
      subject: ["{{ favourite_colour }} is not a contact field or custom attribute."],
      "blocks[0].text": ["{{ attributes.town }} is not a contact field or custom attribute."],
      "blocks[1].url": ["{{ shoe_size }} is not a contact field or custom attribute."],
      text: ["{{ favourite_colour }} is not a contact field or custom attribute."],
    });
    expect(listTemplates(ctx).map((t) => t.name)).not.toContain("Colours");
  });

  it("reports malformed tags and bad input per field", () => {
    expect(
      fieldErrors(() =>
        saveTemplate(ctx, email({ name: "Broken", subject: "Hi {{ first_name | shout }}" })),
      ),
    ).toEqual({
      subject: [
        "Line 1, column 20: Unknown filter “shout”. Use default, upcase, downcase, capitalize, truncate or url_encode.",
      ],
    });
    expect(
      fieldErrors(() =>
        saveTemplate(ctx, {
          ...email({ name: "" }),
          subject: "x".repeat(151),
          blocks: [{ type: "button", text: "Go", url: "javascript:alert(1)" }],
        }),
      ),
    ).toEqual({
      name: ["Give the template a name."],
      subject: ["A subject can be at most 150 characters."],
      "blocks[0].url": ["The button link must be a full link starting with https:// (or http://)."],
    });
    expect(
      fieldErrors(() =>
        saveTemplate(
          ctx,
          email({
            name: "Links",
            blocks: [{ type: "paragraph", text: "[x](javascript:alert(1))" }],
          }),
        ),
      ),
    ).toEqual({
      "blocks[0].text": [
        "Links must be full https:// (or http://) addresses: “javascript:alert(1)” is not.",
      ],
    });
    expect(
      fieldErrors(() => saveTemplate(ctx, email({ name: "Empty", blocks: null, html: " " }))),
    ).toEqual({ blocks: ["Write the email: add at least one block."] });
    expect(
      fieldErrors(() => saveTemplate(ctx, { channel: "whatsapp", name: "x" } as never)),
    ).toEqual({
      channel: ["Templates are for email, SMS or Telegram (WhatsApp templates come from Meta)."],
    });
  });

  it("accepts raw HTML (checked) and derives its text part", () => {
    const saved = saveTemplate(
      ctx,
      email({
        name: "Raw",
        blocks: undefined,
        html: '<h1>Hi {{ first_name }}</h1><p>See <a href="https://x.example">our shop</a>.</p>',
        trackLinks: false,
      }),
    );
    if (saved.channel !== "email") throw new Error("email");
    expect(saved.content).toMatchObject({
      blocks: null,
      text: "Hi {{ first_name }}\n\nSee our shop (https://x.example).",
      textDerived: true,
      trackLinks: false,
    });
    expect(
      fieldErrors(() =>
        saveTemplate(
          ctx,
          email({ name: "Raw 2", blocks: undefined, html: '<p onclick="x()">Hi</p>' }),
        ),
      ),
    ).toEqual({
      html: [
        "Email HTML cannot contain event handlers such as onclick= (mail clients remove them).",
      ],
    });
  });

  it("keeps names unique per channel, case-insensitively, with a friendly error", () => {
    expect(fieldErrors(() => saveTemplate(ctx, email({ name: "welcome" })))).toEqual({
      name: ["There is already a Email template called “welcome”. Choose another name."],
    });
    // Another channel, or another workspace, may use the name.
    const sms = saveTemplate(ctx, { channel: "sms", name: "Welcome", text: "Hi {{ first_name }}" });
    expect(sms.channel).toBe("sms");
    const elsewhere = email({ preheader: null, blocks: [{ type: "paragraph", text: "Hello" }] });
    expect(saveTemplate(otherCtx, elsewhere).name).toBe("Welcome");
  });

  it("updates in place; the channel cannot change; WhatsApp rows are read-only", () => {
    const saved = saveTemplate(ctx, { channel: "sms", name: "Update me", text: "v1" });
    const updated = saveTemplate(
      ctx,
      { channel: "sms", name: "Updated", text: "v2 {{ city }}" },
      saved.id,
    );
    expect(updated).toMatchObject({ id: saved.id, name: "Updated", variables: ["city"] });
    expect(updated.createdAt).toEqual(saved.createdAt);
    expect(updated.updatedAt.getTime()).toBeGreaterThan(saved.updatedAt.getTime());
    // Saving under its own name again is not a duplicate.
    saveTemplate(ctx, { channel: "sms", name: "Updated", text: "v3" }, saved.id);
    expect(
      fieldErrors(() =>
        saveTemplate(ctx, { channel: "telegram", name: "Updated", text: "x" }, saved.id),
      ),
    ).toEqual({ channel: ["A template's channel cannot change. Create a new template instead."] });
    expect(
      thrown(() => saveTemplate(ctx, { channel: "sms", name: "x", text: "x" }, 99_999)),
    ).toBeInstanceOf(NotFoundError);
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, "template.updated")),
      )
      .all();
    expect(audit.filter((a) => a.targetId === String(saved.id))).toHaveLength(2);
  });

  it("requires and checks the DLT template when DLT is on", () => {
    expect(
      fieldErrors(() =>
        saveTemplate(ctx, {
          channel: "sms",
          name: "OTP",
          text: "Code {{ city }}",
          dltRequired: true,
        }),
      ),
    ).toEqual({
      dltTemplateId: ["Enter the DLT template id registered for this text."],
      dltText: ["Paste the text exactly as registered on the DLT portal."],
    });
    const mismatch = fieldErrors(() =>
      saveTemplate(ctx, {
        channel: "sms",
        name: "Order",
        text: "Hi {{ first_name }}, your order shipped. - SHOPIN",
        dltRequired: true,
        dltTemplateId: "1107160000000012345",
        dltText: "Dear {#var#}, your order shipped. - SHOPIN",
      }),
    );
    expect(mismatch.text![0]).toMatch(
      /^Does not match the registered DLT text\. The message differs from the registered text at the start/,
    );
    const ok = saveTemplate(ctx, {
      channel: "sms",
      name: "Order",
      text: "Dear {{ first_name }}, your order shipped. - SHOPIN",
      dltRequired: true,
      dltTemplateId: "1107160000000012345",
      dltText: "Dear {#var#}, your order shipped. - SHOPIN",
    });
    expect(ok.content).toEqual({
      text: "Dear {{ first_name }}, your order shipped. - SHOPIN",
      dltTemplateId: "1107160000000012345",
      dltText: "Dear {#var#}, your order shipped. - SHOPIN",
    });
  });

  it("checks Telegram HTML and buttons", () => {
    expect(
      fieldErrors(() =>
        saveTemplate(ctx, {
          channel: "telegram",
          name: "TG",
          text: "<b>Hi</b>",
          buttons: [
            { text: "Shop", url: "http://x.example" },
            { text: "{{ name }}", url: "https://x.example" },
          ],
        }),
      ),
    ).toEqual({
      "buttons[0].url": ["A button link must be a full https:// address."],
      "buttons[1].text": ["Buttons cannot use variables."],
    });
    expect(
      fieldErrors(() =>
        saveTemplate(ctx, { channel: "telegram", name: "TG", text: "<h1>Hi</h1>" }),
      ),
    ).toEqual({
      text: [
        'Telegram does not allow <h1>. Use <b>, <i>, <u>, <s>, <a href="…">, <code> or <pre>.',
      ],
    });
    const four = Array.from({ length: 4 }, (_, i) => ({ text: `B${i}`, url: "https://x.example" }));
    expect(
      fieldErrors(() =>
        saveTemplate(ctx, { channel: "telegram", name: "TG", text: "x", buttons: four }),
      ),
    ).toEqual({ buttons: ["At most 3 buttons."] });
  });
});

describe("listing and deleting", () => {
  it("lists the workspace's templates, WhatsApp included, optionally by channel", () => {
    const at = new Date(clock);
    ctx.db
      .insert(templates)
      .values({
        channel: "whatsapp",
        name: "order_update",
        language: "en",
        category: "UTILITY",
        status: "approved",
        externalId: "123456",
        content: JSON.stringify({
          components: [{ type: "BODY", text: "Hi {{1}}, order {{2}} from {{3}}" }],
          variableMap: {
            "1": "first_name",
            "2": 'plan_tier | default: "n/a"',
            "3": "not a field!",
          },
        }),
        variables: JSON.stringify(["first_name", "plan_tier"]),
        createdAt: at,
        updatedAt: at,
        syncedAt: at,
      })
      .run();
    const all = listTemplates(ctx);
    expect(new Set(all.map((t) => t.channel))).toEqual(new Set(["email", "sms", "whatsapp"]));
    expect(listTemplates(ctx, { channel: "whatsapp" }).map((t) => t.name)).toEqual([
      "order_update",
    ]);
    expect(listTemplates(ctx, { channel: "email" }).map((t) => t.name)).toEqual(["Raw", "Welcome"]);
    expect(listTemplates(otherCtx).map((t) => t.name)).toEqual(["Welcome"]);
    expect(thrown(() => getTemplate(otherCtx, all[0]!.id + 1000))).toBeInstanceOf(NotFoundError);
  });

  it("refuses to delete a template an unfinished campaign uses, deletes it otherwise", () => {
    const t = saveTemplate(ctx, { channel: "sms", name: "Flash sale", text: "Sale!" });
    const other = saveTemplate(ctx, { channel: "sms", name: "Other", text: "Other" });
    insertCampaign(ctx, "Done", "completed", [t.id]);
    const scheduled = insertCampaign(ctx, "Diwali", "scheduled", [other.id, t.id]);
    const error = thrown(() => deleteTemplate(ctx, t.id));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      "“Flash sale” is used by the campaign “Diwali” (scheduled). Choose another template there, or finish or cancel the campaign, before deleting it.",
    );
    insertCampaign(ctx, "Approval", "pending_approval", [t.id]);
    expect(thrown(() => deleteTemplate(ctx, t.id)).message).toMatch(
      /the campaigns “Diwali” \(scheduled\), “Approval” \(waiting for approval\)\./,
    );
    expect(getTemplate(ctx, t.id).name).toBe("Flash sale");

    ctx.db.update(campaigns).set({ status: "cancelled" }).where(eq(campaigns.id, scheduled)).run();
    ctx.db.update(campaigns).set({ status: "failed" }).where(eq(campaigns.name, "Approval")).run();
    deleteTemplate(ctx, t.id);
    expect(thrown(() => getTemplate(ctx, t.id))).toBeInstanceOf(NotFoundError);
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, "template.deleted")),
      )
      .all();
    expect(audit.map((a) => a.targetId)).toEqual([String(t.id)]);
    expect(thrown(() => deleteTemplate(ctx, t.id))).toBeInstanceOf(NotFoundError);

    const whatsapp = listTemplates(ctx, { channel: "whatsapp" })[0]!;
    expect(thrown(() => deleteTemplate(ctx, whatsapp.id))).toBeInstanceOf(ValidationError);
  });
});

describe("rendering for a contact", () => {
  let n = 0;
  function contact(name: string, attributes: Record<string, string> = {}) {
    n += 1;
    const id = insertContact(ctx.db, {
      name,
      email: `person${n}@example.com`,
      phone: `+9198765${String(n).padStart(5, "0")}`,
      attributes,
    });
    return getContact(ctx, id);
  }

  const find = (name: string, channel: Template["channel"]) =>
    listTemplates(ctx, { channel }).find((t) => t.name === name)!;

  it("email: subject, escaped HTML in a responsive wrapper with the preheader, text unescaped", () => {
    const person = contact("<script>x</script> Rao", { city: "Pune & Co", plan_tier: "gold" });
    const content = renderForContact(ctx, find("Welcome", "email"), person);
    if (content.channel !== "email") throw new Error("email");
    expect(content.subject).toBe("Welcome, <script>x</script>");
    expect(content.html).toMatch(/^<!DOCTYPE html>/);
    expect(content.html).toContain("<title>Welcome, &lt;script&gt;x&lt;/script&gt;</title>");
    expect(content.html).toContain("Hello &lt;script&gt;x&lt;/script&gt;</h1>");
    expect(content.html).not.toContain("<script>");
    expect(content.html).toContain("<strong>GOLD</strong>");
    expect(content.html).toContain('href="https://shop.example/?c=Pune%20%26%20Co"');
    expect(content.html).toContain("max-width:600px");
    const preheader = content.html.indexOf("Your Pune &amp; Co store is open");
    expect(preheader).toBeGreaterThan(content.html.indexOf("<body"));
    expect(preheader).toBeLessThan(content.html.indexOf("<h1"));
    expect(content.text).toBe(
      "Hello <script>x</script>\n\nThanks for joining GOLD.\n\nVisit: https://shop.example/?c=Pune%20%26%20Co",
    );
    expect(content).not.toHaveProperty("from");

    const anonymous = renderForContact(ctx, find("Welcome", "email"), contact(""));
    if (anonymous.channel !== "email") throw new Error("email");
    expect(anonymous.subject).toBe("Welcome, friend");
    expect(anonymous.html).toContain("Your local store is open");
  });

  it("sms: rendered text and the DLT id", () => {
    const content = renderForContact(ctx, find("Order", "sms"), contact("Asha Verma"));
    expect(content).toEqual({
      channel: "sms",
      text: "Dear Asha, your order shipped. - SHOPIN",
      dltTemplateId: "1107160000000012345",
    });
    expect(renderForContact(ctx, find("Welcome", "sms"), contact("Ravi"))).toEqual({
      channel: "sms",
      text: "Hi Ravi",
    });
  });

  it("telegram: HTML parse mode with escaped values, and the buttons", () => {
    const saved = saveTemplate(ctx, {
      channel: "telegram",
      name: "TG hello",
      text: '<b>Hi {{ first_name }}</b> from {{ city | default: "us" }}',
      buttons: [{ text: "Shop", url: "https://shop.example" }],
    });
    expect(renderForContact(ctx, saved, contact("<i>Mallory</i> X", { city: "A&B" }))).toEqual({
      channel: "telegram",
      text: "<b>Hi &lt;i&gt;Mallory&lt;/i&gt;</b> from A&amp;B",
      parseMode: "HTML",
      buttons: [{ text: "Shop", url: "https://shop.example" }],
    });
  });

  it("whatsapp: the approved template with body parameters from its variable map", () => {
    const template = find("order_update", "whatsapp");
    expect(sendableReason(template)).toBeNull();
    expect(renderForContact(ctx, template, contact("Meera\nK", { city: "Goa" }))).toEqual({
      channel: "whatsapp",
      type: "template",
      name: "order_update",
      language: "en",
      bodyParams: ["Meera", "n/a", ""],
    });
    expect(sendableReason({ ...template, status: "pending" })).toMatch(/pending, not approved/);
  });

  it("previews a template for a contact, or for a sample person", () => {
    const id = find("Welcome", "sms").id;
    const person = contact("Kiran Das");
    expect(previewTemplate(ctx, id, person.id)).toEqual({ channel: "sms", text: "Hi Kiran" });
    expect(previewTemplate(ctx, id)).toEqual({ channel: "sms", text: "Hi Priya" });
    expect(thrown(() => previewTemplate(ctx, id, 987_654))).toBeInstanceOf(NotFoundError);
  });

  it("offers contact fields and custom attributes to the variable picker", () => {
    expect(templateVariables(ctx).map((v) => `${v.kind}:${v.key}`)).toEqual([
      "contact:first_name",
      "contact:last_name",
      "contact:name",
      "contact:email",
      "contact:phone",
      "contact:country",
      "attribute:city",
      "attribute:plan_tier",
    ]);
  });
});
