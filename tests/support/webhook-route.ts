import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { INBOUND_EMAIL_SEGMENT, receiveInboundEmail } from "~/domain/delivery/inbound-email.server";
import { receiveWebhook } from "~/domain/delivery/webhooks.server";

/**
 * For engine-level tests: a loopback HTTP listener that does what server.ts's
 * /webhooks/:segment/:integrationId route does (raw body, lower-case headers, full URL) and
 * hands the request to the real `receiveWebhook`. Point BASE_URL at `url`, and the provider
 * fakes' own callbacks (Twilio status callbacks, Telegram updates to the registered webhook, SNS
 * deliveries) reach the delivery engine in this process, as they would reach the server.
 */
export interface WebhookRoute {
  /** `http://127.0.0.1:PORT`: use as BASE_URL. */
  url: string;
  /** Every request answered, oldest first. */
  answered: { path: string; status: number; body: string }[];
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startWebhookRoute(): Promise<WebhookRoute> {
  const answered: WebhookRoute["answered"] = [];
  const sockets = new Set<Socket>();
  let base = "";
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? "/";
      const match = /^\/webhooks\/([^/?]+)\/([^/?]+)(?:\?.*)?$/.exec(path);
      if (!match) {
        res.writeHead(404).end("no route");
        answered.push({ path, status: 404, body: "no route" });
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      const segment = decodeURIComponent(match[1]!);
      const request = { method: req.method ?? "GET", url: `${base}${path}`, headers, body };
      // server.ts hands /webhooks/inbound-email/* to the inbound email endpoints (host.server.ts).
      const answer =
        segment === INBOUND_EMAIL_SEGMENT
          ? await receiveInboundEmail(decodeURIComponent(match[2]!), request)
          : await receiveWebhook(segment, decodeURIComponent(match[2]!), request);
      answered.push({ path, status: answer.status, body: answer.body });
      res.writeHead(answer.status, { "content-type": answer.contentType }).end(answer.body);
    })().catch((error: unknown) => {
      answered.push({ path: req.url ?? "/", status: 500, body: String(error) });
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    answered,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
