import {
  GetAccountCommand,
  SendEmailCommand,
  SESv2Client,
  SESv2ServiceException,
  type SendEmailCommandInput,
} from "@aws-sdk/client-sesv2";
import { afterEach, describe, expect, it } from "vitest";
import { createSesFake, sesSentEmails, type SesFake } from "./ses";

const started: SesFake[] = [];
const clients: SESv2Client[] = [];

async function start(options?: Parameters<typeof createSesFake>[0]): Promise<SesFake> {
  const fake = createSesFake(options);
  await fake.start();
  started.push(fake);
  return fake;
}

function client(fake: SesFake, accessKeyId = "AKIDONE"): SESv2Client {
  const c = new SESv2Client({
    region: "ap-south-1",
    endpoint: fake.url,
    credentials: { accessKeyId, secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(started.splice(0).map((f) => f.stop()));
});

const raw = (to = "asha@example.com") =>
  Buffer.from(`From: news@shop.example\r\nTo: ${to}\r\nSubject: hi\r\n\r\nbody\r\n`);

function sendInput(extra: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput {
  return {
    Destination: { ToAddresses: ["asha@example.com"] },
    Content: { Raw: { Data: raw() } },
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<SESv2ServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SESv2ServiceException) return error;
    throw error;
  }
  throw new Error("expected an SES error");
}

describe("SES fake: GetAccount", () => {
  it("answers the SDK's shape, counting sends in SentLast24Hours", async () => {
    const fake = await start({ account: { maxSendRate: 21, productionAccessEnabled: false } });
    const ses = client(fake);
    await ses.send(new SendEmailCommand(sendInput()));
    const account = await ses.send(new GetAccountCommand({}));
    expect(account.SendQuota).toEqual({
      Max24HourSend: 50_000,
      MaxSendRate: 21,
      SentLast24Hours: 1,
    });
    expect(account.SendingEnabled).toBe(true);
    expect(account.ProductionAccessEnabled).toBe(false);
    fake.account.sendingEnabled = false;
    expect((await ses.send(new GetAccountCommand({}))).SendingEnabled).toBe(false);
  });

  it("requires a SigV4 signature scoped to ses", async () => {
    const fake = await start();
    const response = await fetch(`${fake.url}/v2/email/account`);
    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-errortype")).toMatch(
      /^MissingAuthenticationTokenException:/,
    );
  });
});

describe("SES fake: SendEmail recording", () => {
  it("records EmailTags and ConfigurationSetName", async () => {
    const fake = await start();
    await client(fake).send(
      new SendEmailCommand(
        sendInput({
          ConfigurationSetName: "engage",
          EmailTags: [
            { Name: "workspace", Value: "ws_1" },
            { Name: "message", Value: "m.1@x-y" },
          ],
        }),
      ),
    );
    expect(sesSentEmails(fake)[0]).toMatchObject({
      configurationSetName: "engage",
      emailTags: [
        { name: "workspace", value: "ws_1" },
        { name: "message", value: "m.1@x-y" },
      ],
    });
  });

  it("refuses tag values outside SES's character set", async () => {
    const fake = await start();
    const error = await failure(
      client(fake).send(
        new SendEmailCommand(sendInput({ EmailTags: [{ Name: "m", Value: "a:b" }] })),
      ),
    );
    expect(error.name).toBe("BadRequestException");
    expect(sesSentEmails(fake)).toHaveLength(0);
  });

  it("record: false only counts, and keeps the request log empty", async () => {
    const fake = await start({ record: false });
    const ses = client(fake);
    for (let i = 0; i < 3; i++) await ses.send(new SendEmailCommand(sendInput()));
    expect(fake.sentCount).toBe(3);
    expect(sesSentEmails(fake)).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("SES fake: sending rate", () => {
  it("over maxSendRate in a 1,000 ms window answers 429 TooManyRequestsException", async () => {
    const fake = await start({ maxSendRate: 3 });
    const ses = client(fake);
    for (let i = 0; i < 3; i++) await ses.send(new SendEmailCommand(sendInput()));
    const error = await failure(ses.send(new SendEmailCommand(sendInput())));
    expect(error.name).toBe("TooManyRequestsException");
    expect(error.message).toBe("Maximum sending rate exceeded.");
    expect(error.$metadata.httpStatusCode).toBe(429);
    // Another access key has its own window.
    await client(fake, "AKIDTWO").send(new SendEmailCommand(sendInput()));
    // The window slides: a second later the key may send again.
    await new Promise((r) => setTimeout(r, 1_050));
    await ses.send(new SendEmailCommand(sendInput()));
    expect(fake.sentCount).toBe(5);
  });

  it("maxRatePerSecond is the busiest sliding second per access key", async () => {
    const fake = await start();
    const one = client(fake, "AKIDONE");
    for (let i = 0; i < 5; i++) await one.send(new SendEmailCommand(sendInput()));
    await new Promise((r) => setTimeout(r, 1_050));
    for (let i = 0; i < 2; i++) await one.send(new SendEmailCommand(sendInput()));
    await client(fake, "AKIDTWO").send(new SendEmailCommand(sendInput()));
    expect(fake.maxRatePerSecond("AKIDONE")).toBe(5);
    expect(fake.maxRatePerSecond("AKIDTWO")).toBe(1);
    expect(fake.maxRatePerSecond("AKIDNONE")).toBe(0);
    fake.resetRates();
    expect(fake.maxRatePerSecond("AKIDONE")).toBe(0);
    expect(fake.sentCount).toBe(0);
  });

  it("keeps up with a long run (window pruning stays cheap)", async () => {
    const fake = await start({ record: false, maxSendRate: 1_000_000 });
    const ses = client(fake);
    const started = performance.now();
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, () => ses.send(new SendEmailCommand(sendInput()))),
      );
    }
    expect(fake.sentCount).toBe(2_000);
    expect(fake.maxRatePerSecond("AKIDONE")).toBeGreaterThan(0);
    expect(fake.maxRatePerSecond("AKIDONE")).toBeLessThanOrEqual(2_000);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
