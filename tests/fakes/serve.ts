// Serves one fake in a process of its own, so a benchmark's client and the fake do not share a
// core: `node --import tsx tests/fakes/serve.ts <name> '<options JSON>'`. Prints one JSON line
// {"url", "controlUrl"}; POST {"method", "args"} to controlUrl calls that method of the fake
// (maxRatePerSecond, sentCount, injectFault, ...) and answers its result as JSON.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeServer } from "./base";
import { createSesFake } from "./ses";
import { createSmsFake, FAKE_SMS_DEMO_ACCOUNT } from "./sms";
import { createTelegramFake, FAKE_TELEGRAM_DEMO_BOT } from "./telegram";
import { createWhatsAppFake, FAKE_WHATSAPP_DEMO_NUMBER } from "./whatsapp";

const factories: Record<string, (options: Record<string, unknown>) => FakeServer> = {
  whatsapp: (o) => createWhatsAppFake({ numbers: [FAKE_WHATSAPP_DEMO_NUMBER], ...o }),
  sms: (o) => createSmsFake({ accounts: [FAKE_SMS_DEMO_ACCOUNT], ...o }),
  telegram: (o) => createTelegramFake({ bots: [FAKE_TELEGRAM_DEMO_BOT], ...o }),
  ses: (o) => createSesFake(o),
};

const [name = "", rawOptions = "{}"] = process.argv.slice(2);
const factory = factories[name];
if (!factory) {
  console.error(`usage: serve.ts <${Object.keys(factories).join("|")}> [options JSON]`);
  process.exit(2);
}
const fake = factory(JSON.parse(rawOptions) as Record<string, unknown>);
const { url } = await fake.start();
// Benchmarks need the counters, not a log of every request.
setInterval(() => fake.clearRequests(), 500).unref();

const control = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    try {
      const { method, args = [] } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        method: string;
        args?: unknown[];
      };
      const target = (fake as unknown as Record<string, unknown>)[method];
      const result = typeof target === "function" ? target.apply(fake, args) : target;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(result ?? null));
    } catch (error) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(error instanceof Error ? error.message : String(error));
    }
  });
});
control.listen(0, "127.0.0.1", () => {
  const port = (control.address() as AddressInfo).port;
  console.log(JSON.stringify({ url, controlUrl: `http://127.0.0.1:${port}` }));
});
process.on("SIGTERM", () => process.exit(0));
