// Hosted pages of the Razorpay fake: the subscription's short_url (UPI AutoPay / e-mandate
// authorisation with Authorise and Fail) and the payment link's short_url (Pay and Fail), and a
// read-only invoice page.
import { escapeHtml } from "../../app/lib/html";
import type { FakeReply, FakeRequest } from "./base";
import type { Entity, Json, RazorpayBilling } from "./razorpay-billing";
import { razorpaySignature } from "./razorpay-wire";

export function createRazorpayPages(deps: {
  entities: Map<string, Entity>;
  billing: RazorpayBilling;
  keySecret: string;
}) {
  const { entities, billing, keySecret } = deps;

  function page(status: number, title: string, body: string): FakeReply {
    return {
      status,
      headers: { "content-type": "text/html; charset=utf-8" },
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`,
    };
  }

  function payPage(e: Entity, message = "", status = 200): FakeReply {
    const isSub = e.entity === "subscription";
    const amount = isSub
      ? ((entities.get(String(e.plan_id))!.item as Json).amount as number) * (e.quantity as number)
      : (e.amount as number);
    const open = e.status === "created";
    const [yes, title] = isSub ? ["Authorise", "UPI AutoPay / e-mandate"] : ["Pay", "Payment link"];
    const note = message ? `<p role="alert">${escapeHtml(message)}</p>` : "";
    const who = isSub
      ? [
          ["name", "Gaurav Kumar"],
          ["email", "gaurav.kumar@example.com"],
          ["contact", "+919000090000"],
        ]
          .map(([k, v]) => `<label>${k} <input name="${k}" value="${v}"></label> `)
          .join("")
      : "";
    const form = open
      ? `<form method="post" action="/pay/${isSub ? "subscription" : "link"}/${escapeHtml(e.id)}">${who}<button type="submit" name="action" value="${isSub ? "authorise" : "pay"}">${yes}</button> <button type="submit" name="action" value="fail">Fail</button></form>`
      : `<p>Status: ${escapeHtml(String(e.status))}</p>`;
    return page(
      status,
      title,
      `<h1>${escapeHtml(title)}: ₹${(amount / 100).toFixed(2)}</h1>${note}${form}`,
    );
  }

  function hosted(req: FakeRequest): FakeReply {
    const e = entities.get(req.params.id ?? "");
    const kinds: Record<string, string> = {
      subscription: "subscription",
      link: "payment_link",
      invoice: "invoice",
    };
    if (!e || e.entity !== kinds[req.params.kind ?? ""])
      return page(404, "Not found", "<p>Unknown link.</p>");
    if (e.entity === "invoice") {
      return page(
        200,
        "Invoice",
        `<h1>Invoice ${escapeHtml(e.id)}</h1><p>Status: ${escapeHtml(String(e.status))}</p>`,
      );
    }
    return payPage(e);
  }

  function hostedPost(req: FakeRequest): FakeReply {
    const e = entities.get(req.params.id ?? "");
    const kinds: Record<string, string> = { subscription: "subscription", link: "payment_link" };
    if (!e || e.entity !== kinds[req.params.kind ?? ""])
      return page(404, "Not found", "<p>Unknown link.</p>");
    if (e.status !== "created") return payPage(e, "This has already been completed.", 409);
    const fail = req.form().get("action") === "fail";
    if (e.entity === "subscription") {
      const form = req.form();
      const failed = billing.authorise(e, fail, {
        name: form.get("name") ?? "Gaurav Kumar",
        email: form.get("email") ?? "gaurav.kumar@example.com",
        contact: form.get("contact") ?? "+919000090000",
      });
      if (failed) return payPage(e, "Payment failed: the mandate was not authorised.", 402);
      return payPage(e, "Mandate authorised. You can close this page.");
    }
    const p = billing.payLink(e, fail);
    if (p.status !== "captured") return payPage(e, "Payment failed.", 402);
    if (!e.callback_url) return payPage(e, "Payment successful.");
    const fields = {
      razorpay_payment_id: p.id,
      razorpay_payment_link_id: e.id,
      razorpay_payment_link_reference_id: String(e.reference_id),
      razorpay_payment_link_status: "paid",
    };
    const signature = razorpaySignature(
      `${e.id}|${String(e.reference_id)}|paid|${p.id}`,
      keySecret,
    );
    const target = new URL(String(e.callback_url));
    for (const [k, v] of Object.entries({ ...fields, razorpay_signature: signature }))
      target.searchParams.set(k, v);
    return { status: 303, headers: { location: target.toString() } };
  }

  return { hosted, hostedPost };
}
