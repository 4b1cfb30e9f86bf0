/**
 * A separate process issuing invoices against DATA_DIR's control db, for the test that numbers
 * stay gapless when several processes allocate at once. Usage: <count> <workspaceId> <barrierDir>
 * <parties>: it marks itself ready in barrierDir and waits for all parties, so that every process
 * allocates at the same time.
 * Prints the numbers it got as one JSON line.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeControlDb } from "~/db/control.server";
import { taxFor } from "~/domain/billing/gst";
import { issueInvoice } from "~/domain/billing/invoices.server";

const [count, workspaceId, barrierDir, parties] = process.argv.slice(2);
writeFileSync(join(barrierDir!, workspaceId!), "");
while (readdirSync(barrierDir!).length < Number(parties)) {
  await new Promise((resolve) => setTimeout(resolve, 2));
}
const ctx = { actor: { type: "system" as const, id: "allocator" }, now: () => new Date() };
const numbers: string[] = [];
for (let i = 0; i < Number(count); i++) {
  const tax = taxFor({
    supplierState: "29",
    customer: { country: "IN", state: "27" },
    amount: 599_900,
  });
  const invoice = issueInvoice(ctx, {
    workspaceId: workspaceId!,
    currency: "INR",
    lines: [{ description: "Growth (monthly)", amount: 599_900 }],
    tax,
    customer: { legalName: "Allocator Pvt Ltd", country: "IN", state: "27" },
    sac: "997331",
  });
  numbers.push(invoice.number);
}
closeControlDb();
process.stdout.write(JSON.stringify(numbers) + "\n");
