import { createCookie, redirect } from "@remix-run/node";
import { getEnv } from "./env.server";
import { getSecrets } from "./local-secrets.server";

export type FlashTone = "success" | "info" | "warning" | "error";
export interface Flash {
  tone: FlashTone;
  message: string;
}

/** A signed, short-lived cookie carrying one message across a redirect (post/redirect/get). */
function flashCookie() {
  return createCookie("engage_flash", {
    httpOnly: true,
    sameSite: "lax",
    secure: getEnv().BASE_URL.startsWith("https://"),
    path: "/",
    maxAge: 60,
    secrets: [getSecrets().sessionSecret],
  });
}

export async function redirectWithFlash(
  to: string,
  message: string,
  tone: FlashTone = "success",
  init: ResponseInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.append("Set-Cookie", await flashCookie().serialize({ tone, message } satisfies Flash));
  return redirect(to, { ...init, headers });
}

/** Reads the pending message, if any, and the header that clears it. */
export async function takeFlash(
  request: Request,
): Promise<{ flash: Flash | null; headers: HeadersInit }> {
  const cookie = flashCookie();
  const value = (await cookie.parse(request.headers.get("Cookie"))) as Flash | null;
  if (!value || typeof value.message !== "string") return { flash: null, headers: {} };
  return {
    flash: { tone: value.tone, message: value.message },
    headers: { "Set-Cookie": await cookie.serialize("", { maxAge: 0 }) },
  };
}
