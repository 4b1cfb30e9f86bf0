import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FakeServer } from "../../tests/fakes/base";
import { createSesFake, sesFault, sesSentEmails } from "../../tests/fakes/ses";
import { parseEnv } from "~/lib/env.server";
import {
  createMailTransport,
  isMailboxId,
  listFileMailbox,
  mailConfigFromEnv,
  MailTransportError,
  readFileMailboxMessage,
  type OutgoingMail,
} from "./transport.server";

const FROM = "Pleisys Engage Test <mailer@engage.test>";
const mode = (path: string) => statSync(path).mode & 0o777;

function message(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    to: "asha@example.com",
    subject: "Héllo — ✓ done",
    text: "Line one\nOpen https://engage.test/verify?token=abc=def&x=1 now.\nÜnïcødé ✓\n",
    html: `<p>Hello <b>Asha</b> ✓</p><p><a href="https://engage.test/verify?token=abc">go</a></p>`,
    headers: {
      "List-Unsubscribe": `<https://engage.test/unsubscribe?token=${"t".repeat(150)}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<MailTransportError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MailTransportError);
    return error as MailTransportError;
  }
  throw new Error("expected the promise to reject");
}

describe("file mailbox", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "engage-mail-"));
  });

  it("writes one .eml per message, mode 0600 in a 0700 directory, with no temp file left", async () => {
    const transport = createMailTransport({ from: FROM, dataDir });
    expect(transport.kind).toBe("file");
    const { id } = await transport.send(message());

    expect(isMailboxId(id)).toBe(true);
    const dir = join(dataDir, "mail");
    expect(readdirSync(dir)).toEqual([`${id}.eml`]);
    expect(mode(join(dir, `${id}.eml`))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    const raw = readFileSync(join(dir, `${id}.eml`), "utf8");
    expect(raw).toContain(`From: ${FROM}`);
    expect(raw).toContain("To: asha@example.com");
    expect(raw).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    expect(raw).toContain("\r\n");
  });

  it("reads back headers and both bodies, decoding encoded words and quoted-printable", async () => {
    const transport = createMailTransport({ from: FROM, dataDir });
    const { id } = await transport.send(message());
    const read = await readFileMailboxMessage(id, dataDir);

    expect(read).not.toBeNull();
    expect(read!.id).toBe(id);
    expect(read!.to).toBe("asha@example.com");
    expect(read!.from).toBe(FROM);
    expect(read!.subject).toBe("Héllo — ✓ done");
    expect(Math.abs(Date.parse(read!.date) - Date.now())).toBeLessThan(60_000);
    expect(read!.text).toBe(message().text);
    expect(read!.html).toBe(message().html);
    const unsubscribe = read!.headers.find((h) => h.name === "List-Unsubscribe");
    expect(unsubscribe?.value).toBe(message().headers!["List-Unsubscribe"]);
  });

  it("lists newest first with a total, and pages with limit and offset", async () => {
    const transport = createMailTransport({ from: FROM, dataDir });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      ids.push(
        (await transport.send(message({ subject: `Mail ${i}`, to: `p${i}@example.com` }))).id,
      );
    }
    // Files that are not mailbox messages are ignored.
    writeFileSync(join(dataDir, "mail", "notes.txt"), "x");
    writeFileSync(join(dataDir, "mail", `.${ids[0]}.tmp`), "half a message");

    const first = await listFileMailbox({ limit: 2, offset: 0 }, dataDir);
    expect(first.total).toBe(5);
    expect(first.items.map((m) => m.subject)).toEqual(["Mail 5", "Mail 4"]);
    expect(first.items[0]).toMatchObject({ id: ids[4], to: "p5@example.com" });

    const last = await listFileMailbox({ limit: 2, offset: 4 }, dataDir);
    expect(last.items.map((m) => m.subject)).toEqual(["Mail 1"]);
    expect((await listFileMailbox({ limit: 2, offset: 10 }, dataDir)).items).toEqual([]);
  });

  it("an empty or missing mailbox lists nothing", async () => {
    expect(await listFileMailbox({ limit: 50, offset: 0 }, dataDir)).toEqual({
      total: 0,
      items: [],
    });
  });

  it("never reads outside the mailbox: ids must match the strict pattern", async () => {
    writeFileSync(join(dataDir, "secret.eml"), "Subject: secret\r\n\r\nsecret");
    mkdirSync(join(dataDir, "mail"));
    for (const id of [
      "../secret",
      "..%2Fsecret",
      "20260610T140502123Z-0123456789abcdef/../../secret",
      "20260610T140502123Z-0123456789ABCDEF",
      "",
      "secret",
    ]) {
      expect(isMailboxId(id)).toBe(false);
      expect(await readFileMailboxMessage(id, dataDir)).toBeNull();
    }
    expect(
      await readFileMailboxMessage("20260610T140502123Z-0123456789abcdef", dataDir),
    ).toBeNull();
  });

  it("refuses more than one recipient and header injection, writing nothing", async () => {
    const transport = createMailTransport({ from: FROM, dataDir });
    const bad: Partial<OutgoingMail>[] = [
      { to: "a@example.com, b@example.com" },
      { to: "Asha <a@example.com>" },
      { to: "a@example.com\r\nBcc: b@example.com" },
      { to: "not-an-address" },
      { subject: "Hi\r\nBcc: b@example.com" },
      { subject: "  " },
      { headers: { "X-Note": "a\r\nBcc: b@example.com" } },
      { headers: { From: "Someone Else <ceo@example.com>" } },
      { headers: { "Bad Header": "x" } },
    ];
    for (const overrides of bad) {
      const error = await rejection(transport.send(message(overrides)));
      expect(error.failure).toBe("invalid");
      expect(error.retryable).toBe(false);
    }
    expect(() => readdirSync(join(dataDir, "mail"))).toThrow();
  });

  it("a write failure is a retryable MailTransportError", async () => {
    writeFileSync(join(dataDir, "mail"), "a file where the directory should be");
    const transport = createMailTransport({ from: FROM, dataDir });
    const error = await rejection(transport.send(message()));
    expect(error.failure).toBe("unavailable");
    expect(error.retryable).toBe(true);
  });
});

describe("choosing the transport from the environment", () => {
  it("uses SES only when the region and both keys are set", () => {
    const base = { DATA_DIR: "/tmp/x", BASE_URL: "http://localhost:3000" };
    const full = {
      ...base,
      SES_REGION: "ap-south-1",
      SES_ACCESS_KEY_ID: "AKIDEXAMPLE",
      SES_SECRET_ACCESS_KEY: "secret",
      SES_ENDPOINT: "http://127.0.0.1:4100",
      MAIL_FROM: FROM,
    };
    expect(mailConfigFromEnv(parseEnv(full))).toEqual({
      from: FROM,
      dataDir: "/tmp/x",
      ses: {
        region: "ap-south-1",
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "secret",
        endpoint: "http://127.0.0.1:4100",
      },
    });
    expect(mailConfigFromEnv(parseEnv({ ...full, SES_SECRET_ACCESS_KEY: "" })).ses).toBeUndefined();
    expect(mailConfigFromEnv(parseEnv({ ...full, SES_REGION: undefined })).ses).toBeUndefined();
    expect(mailConfigFromEnv(parseEnv(base)).ses).toBeUndefined();
  });
});

describe("SES v2 through the real SDK", () => {
  let fake: FakeServer;
  let transport: ReturnType<typeof createMailTransport>;
  const dataDir = mkdtempSync(join(tmpdir(), "engage-mail-ses-"));

  beforeAll(async () => {
    fake = createSesFake();
    const { url } = await fake.start();
    transport = createMailTransport({
      from: FROM,
      dataDir,
      ses: {
        region: "ap-south-1",
        accessKeyId: "AKIDTESTKEY",
        secretAccessKey: "test-secret",
        endpoint: url,
      },
    });
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    fake.clearFaults();
    fake.clearRequests();
  });

  it("sends the raw MIME message, signed with the platform key, and returns SES's MessageId", async () => {
    expect(transport.kind).toBe("ses");
    const before = sesSentEmails(fake).length;
    const { id } = await transport.send(message());

    const sent = sesSentEmails(fake).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.messageId).toBe(id);
    expect(sent[0]!.accessKeyId).toBe("AKIDTESTKEY");
    expect(sent[0]!.region).toBe("ap-south-1");
    expect(sent[0]!.destination.to).toEqual(["asha@example.com"]);
    const raw = sent[0]!.raw!;
    expect(raw).toContain(`From: ${FROM}`);
    expect(raw).toContain("Subject: =?UTF-8?"); // non-ASCII subject, RFC 2047 encoded
    expect(raw).toMatch(/List-Unsubscribe:\s+<https:\/\/engage\.test\/unsubscribe\?token=t{150}>/);
    expect(raw).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    expect(raw).toContain("Content-Type: multipart/alternative");

    const request = fake.lastRequest("POST", "/v2/email/outbound-emails")!;
    expect(request.headers["content-type"]).toContain("application/json");
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTESTKEY\//);
    // Nothing is written locally when SES is configured.
    expect(() => readdirSync(join(dataDir, "mail"))).toThrow();
  });

  it("MessageRejected is a permanent 'rejected' failure, not retried", async () => {
    fake.injectFault(sesFault(400, "MessageRejected", "Email address is not verified."));
    const error = await rejection(transport.send(message()));
    expect(error.failure).toBe("rejected");
    expect(error.retryable).toBe(false);
    expect(error.providerCode).toBe("MessageRejected");
    expect(error.httpStatus).toBe(400);
    expect(fake.requests).toHaveLength(1);
  });

  it("throttling is retried by the SDK and succeeds when SES recovers", async () => {
    fake.injectFault(sesFault(429, "TooManyRequestsException", "Too many requests"));
    const { id } = await transport.send(message());
    expect(id).toMatch(/^0100/);
    expect(fake.requests).toHaveLength(2);
  });

  it("throttling that persists becomes a retryable 'throttled' failure", async () => {
    fake.injectFault(sesFault(429, "TooManyRequestsException", "Too many requests"), {
      times: 3,
    });
    const error = await rejection(transport.send(message()));
    expect(error.failure).toBe("throttled");
    expect(error.retryable).toBe(true);
    expect(error.providerCode).toBe("TooManyRequestsException");
    expect(error.httpStatus).toBe(429);
    expect(fake.requests).toHaveLength(3);
  });

  it("a paused sending account is a configuration failure", async () => {
    fake.injectFault(sesFault(400, "SendingPausedException", "Sending is paused"));
    const error = await rejection(transport.send(message()));
    expect(error.failure).toBe("configuration");
    expect(error.retryable).toBe(false);
  });

  it("an unreachable endpoint is a retryable 'unavailable' failure", async () => {
    const down = createMailTransport({
      from: FROM,
      dataDir,
      ses: {
        region: "ap-south-1",
        accessKeyId: "AKIDTESTKEY",
        secretAccessKey: "test-secret",
        endpoint: "http://127.0.0.1:9", // discard port: nothing listens
      },
    });
    const error = await rejection(down.send(message()));
    expect(error.failure).toBe("unavailable");
    expect(error.retryable).toBe(true);
  });
});
