// HTML of the Stripe fake's hosted pages: Checkout (Pay / Decline buttons in one form), the
// hosted invoice and the billing portal.
import { escapeHtml } from "../../app/lib/html";
import type { FakeReply } from "./base";
import type { Obj } from "./stripe-billing";

export function page(status: number, title: string, body: string): FakeReply {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`,
  };
}

export function checkoutPage(s: Obj, message: string, status = 200): FakeReply {
  const amount = `${((s.amount_total as number) / 100).toFixed(2)} ${String(s.currency).toUpperCase()}`;
  const cancel = s.cancel_url
    ? `<p><a href="${escapeHtml(String(s.cancel_url))}">Back</a></p>`
    : "";
  const note = message ? `<p role="alert">${escapeHtml(message)}</p>` : "";
  const form =
    s.status === "open"
      ? `<form method="post" action="/pay/checkout/${escapeHtml(String(s.id))}"><button type="submit" name="action" value="pay">Pay</button> <button type="submit" name="action" value="decline">Decline</button></form>`
      : "";
  return page(status, "Checkout", `<h1>Pay ${escapeHtml(amount)}</h1>${note}${form}${cancel}`);
}
