import { getEnv } from "~/lib/env.server";

/**
 * Every cookie the app sets (policy §2.4: session and functional cookies only, no advertising
 * or analytics). A test compares this list with the cookies the code creates, so a new cookie
 * cannot appear without being listed here and on /privacy.
 */
export interface CookieDescription {
  name: string;
  purpose: string;
  lifetime: string;
  attributes: string;
}

function hours(n: number): string {
  return n === 1 ? "1 hour" : `${n} hours`;
}

function minutes(n: number): string {
  return n === 1 ? "1 minute" : `${n} minutes`;
}

export function cookiesWeSet(): CookieDescription[] {
  const env = getEnv();
  const https = env.BASE_URL.startsWith("https://");
  const secure = https ? "HttpOnly, Secure, SameSite=Lax" : "HttpOnly, SameSite=Lax";
  return [
    {
      name: https ? "__Host-engage_session" : "engage_session",
      purpose:
        "Keeps you signed in. Holds a random session identifier; the session itself is stored on our server and listed under Account → Security, where you can end it.",
      lifetime: `Until you close the browser or sign out. The session ends on our side after ${minutes(env.SESSION_IDLE_MINUTES)} without activity or ${hours(env.SESSION_MAX_HOURS)} after sign-in.`,
      attributes: `${secure}, Path=/`,
    },
    {
      name: "engage_flash",
      purpose:
        "Carries a one-time message (such as “Saved”) to the next page after you submit a form.",
      lifetime: "60 seconds, or until the message is shown.",
      attributes: `${secure}, Path=/, signed`,
    },
    {
      name: "engage_oauth",
      purpose: "Protects “Continue with Google” against forged sign-in answers (OAuth state).",
      lifetime: "10 minutes; set only when you sign in with Google.",
      attributes: `${secure}, Path=/auth/google, signed`,
    },
    {
      name: "engage_google_signup",
      purpose:
        "Remembers the Google account you chose while you confirm your age and the privacy policy at sign-up.",
      lifetime: "10 minutes; set only when you create an account with Google.",
      attributes: `${secure}, Path=/, signed`,
    },
  ];
}
