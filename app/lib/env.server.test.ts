import { isAbsolute, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env.server";

function parseError(source: Record<string, string | undefined>): EnvError {
  try {
    parseEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return error as EnvError;
  }
  throw new Error(`parseEnv accepted ${JSON.stringify(source)}`);
}

describe("parseEnv defaults", () => {
  const env = parseEnv({});

  it("uses the documented defaults", () => {
    expect(env.NODE_ENV).toBe("production");
    expect(env.PORT).toBe(3000);
    expect(env.HOST).toBe("0.0.0.0");
    expect(env.JOBS_ENABLED).toBe(true);
    expect(env.MAX_OPEN_TENANT_DBS).toBe(256);
    expect(env.TRUST_PROXY).toBe("false");
    expect(env.LOG_LEVEL).toBe("info");
    expect(env.ENCRYPTION_KEY).toBeUndefined();
    expect(env.SESSION_SECRET).toBeUndefined();
  });

  it("resolves DATA_DIR to an absolute path", () => {
    expect(isAbsolute(env.DATA_DIR)).toBe(true);
    expect(env.DATA_DIR).toBe(resolve("./data"));
    const relative = parseEnv({ DATA_DIR: "some/dir" });
    expect(relative.DATA_DIR).toBe(resolve(process.cwd(), "some/dir"));
  });

  it("derives BASE_URL from PORT unless given", () => {
    expect(env.BASE_URL).toBe("http://localhost:3000");
    expect(parseEnv({ PORT: "8080" }).BASE_URL).toBe("http://localhost:8080");
    expect(parseEnv({ PORT: "8080", BASE_URL: "https://engage.example.com/" }).BASE_URL).toBe(
      "https://engage.example.com",
    );
  });

  it("points providers at the real services by default", () => {
    expect(env.WHATSAPP_API_BASE_URL).toBe("https://graph.facebook.com");
    expect(env.SMS_API_BASE_URL).toBe("https://api.twilio.com");
    expect(env.TELEGRAM_API_BASE_URL).toBe("https://api.telegram.org");
    expect(env.ANTHROPIC_BASE_URL).toBe("https://api.anthropic.com");
    expect(env.STRIPE_API_BASE_URL).toBe("https://api.stripe.com");
    expect(env.RAZORPAY_API_BASE_URL).toBe("https://api.razorpay.com");
    expect(env.SES_ENDPOINT).toBeUndefined();
    expect(env.GOOGLE_OAUTH_BASE_URL).toBeUndefined();
  });

  it("trims trailing slashes from a given URL", () => {
    const parsed = parseEnv({
      WHATSAPP_API_BASE_URL: "http://127.0.0.1:9100/",
      SMS_API_BASE_URL: "http://127.0.0.1:9101/base//",
    });
    expect(parsed.WHATSAPP_API_BASE_URL).toBe("http://127.0.0.1:9100");
    expect(parsed.SMS_API_BASE_URL).toBe("http://127.0.0.1:9101/base");
  });

  it("reads given values", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const parsed = parseEnv({
      PORT: "4100",
      JOBS_ENABLED: "false",
      MAX_OPEN_TENANT_DBS: "12",
      ENCRYPTION_KEY: key,
      SESSION_SECRET: "s".repeat(32),
      LOG_LEVEL: "debug",
    });
    expect(parsed.PORT).toBe(4100);
    expect(parsed.JOBS_ENABLED).toBe(false);
    expect(parsed.MAX_OPEN_TENANT_DBS).toBe(12);
    expect(parsed.ENCRYPTION_KEY).toBe(key);
    expect(parsed.SESSION_SECRET).toBe("s".repeat(32));
    expect(parsed.LOG_LEVEL).toBe("debug");
  });

  it("treats an empty string as unset", () => {
    const parsed = parseEnv({
      PORT: "",
      DATA_DIR: "",
      BASE_URL: "",
      JOBS_ENABLED: "",
      ENCRYPTION_KEY: "",
      SESSION_SECRET: "",
      TRUST_PROXY: "",
      LOG_LEVEL: "",
      WHATSAPP_API_BASE_URL: "",
      MAX_OPEN_TENANT_DBS: "",
    });
    expect(parsed).toEqual(env);
  });
});

describe("parseEnv rejects bad values, naming the variable", () => {
  const cases: [string, string][] = [
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["ENCRYPTION_KEY", Buffer.alloc(16, 1).toString("base64")],
    ["ENCRYPTION_KEY", Buffer.alloc(33, 1).toString("base64")],
    ["SESSION_SECRET", "too-short"],
    ["TRUST_PROXY", "garbage"],
    ["LOG_LEVEL", "loud"],
    ["WHATSAPP_API_BASE_URL", "ftp://x"],
    ["WHATSAPP_API_BASE_URL", "not a url"],
    ["JOBS_ENABLED", "maybe"],
    ["MAX_OPEN_TENANT_DBS", "1"],
    ["NODE_ENV", "staging"],
  ];

  it.each(cases)("%s=%s", (name, value) => {
    const error = parseError({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.message).toMatch(/^Invalid environment variable /);
  });

  it("names the bad variable, not a valid neighbour", () => {
    const error = parseError({ PORT: "3000", LOG_LEVEL: "loud" });
    expect(error.message).toContain("LOG_LEVEL");
    expect(error.message).not.toContain("PORT");
  });
});

describe("TRUST_PROXY", () => {
  it.each(["false", "1", "2", "loopback", "10.0.0.0/8, ::1", "loopback, uniquelocal, 192.168.1.1"])(
    "accepts %j",
    (value) => {
      expect(parseEnv({ TRUST_PROXY: value }).TRUST_PROXY).toBe(value);
    },
  );

  it.each(["true", "loopback, evil.example.com", "10.0.0.0/8; ::1"])("rejects %j", (value) => {
    expect(parseError({ TRUST_PROXY: value }).message).toContain("TRUST_PROXY");
  });
});

describe("BASE_URL in production", () => {
  it.each(["http://example.com", "http://engage.example.com:8080", "http://10.0.0.5"])(
    "refuses %j: it must be https",
    (value) => {
      const error = parseError({ NODE_ENV: "production", BASE_URL: value });
      expect(error.message).toBe(
        "Invalid environment variable BASE_URL: must be an https:// address in production (http:// only for localhost)",
      );
    },
  );

  it.each([
    "https://engage.example.com",
    "http://localhost:3000",
    "http://127.0.0.1:8080",
    "http://[::1]:3000",
  ])("accepts %j", (value) => {
    expect(parseEnv({ NODE_ENV: "production", BASE_URL: value }).BASE_URL).toBe(value);
  });

  it("allows plain http elsewhere in development and tests", () => {
    expect(parseEnv({ NODE_ENV: "development", BASE_URL: "http://engage.test" }).BASE_URL).toBe(
      "http://engage.test",
    );
  });
});

describe("OUTBOUND_ALLOWED_PRIVATE_HOSTS and SMTP_CA_FILE", () => {
  it("reads a comma list of names and addresses, lower-cased", () => {
    expect(
      parseEnv({ OUTBOUND_ALLOWED_PRIVATE_HOSTS: "Relay.Internal, 10.0.0.5,::1" })
        .OUTBOUND_ALLOWED_PRIVATE_HOSTS,
    ).toEqual(["relay.internal", "10.0.0.5", "::1"]);
    expect(parseEnv({}).OUTBOUND_ALLOWED_PRIVATE_HOSTS).toEqual([]);
  });

  it.each(["relay internal", "http://relay.internal", "10.0.0.0/8", "relay_1.internal"])(
    "refuses %j",
    (value) => {
      expect(parseError({ OUTBOUND_ALLOWED_PRIVATE_HOSTS: value }).message).toMatch(
        /^Invalid environment variable OUTBOUND_ALLOWED_PRIVATE_HOSTS: /,
      );
    },
  );

  it("SMTP_CA_FILE must be a readable PEM file", () => {
    expect(parseError({ SMTP_CA_FILE: "/nonexistent/ca.pem" }).message).toMatch(
      /^Invalid environment variable SMTP_CA_FILE: /,
    );
  });
});

describe("PLATFORM_SMS_*", () => {
  const all = {
    PLATFORM_SMS_ACCOUNT_SID: "AC" + "0".repeat(32),
    PLATFORM_SMS_AUTH_TOKEN: "token",
    PLATFORM_SMS_FROM: "+15005550006",
  };

  it("is off by default and reads all three together", () => {
    expect(parseEnv({}).PLATFORM_SMS_ACCOUNT_SID).toBeUndefined();
    expect(parseEnv(all)).toMatchObject(all);
  });

  it("refuses a partial account, naming a missing variable", () => {
    const error = parseError({ PLATFORM_SMS_ACCOUNT_SID: all.PLATFORM_SMS_ACCOUNT_SID });
    expect(error.message).toContain("PLATFORM_SMS_AUTH_TOKEN");
    expect(error.message).toContain("all three, or none");
    const noSender = parseError({ ...all, PLATFORM_SMS_FROM: "" });
    expect(noSender.message).toContain("PLATFORM_SMS_FROM");
  });
});
