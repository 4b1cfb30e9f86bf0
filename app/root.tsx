import { data, type LinksFunction, type LoaderFunctionArgs } from "@remix-run/node";
import {
  Form,
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  NavLink,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLoaderData,
  useRouteError,
  useRouteLoaderData,
  useLocation,
  type MetaFunction,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { useNonce } from "~/components/nonce";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { getAuth } from "~/auth/session.server";
import { policyNoticeFor } from "~/domain/privacy/policy-versions.server";
import { takeFlash } from "~/lib/flash.server";
import { formatCalendarDay } from "~/lib/format";
import stylesheet from "~/styles/app.css?url";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesheet },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

export const meta: MetaFunction = () => [{ title: "Pleisys Engage" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const { flash, headers } = await takeFlash(request);
  const auth = await getAuth(request);
  const signedIn = auth && !auth.session.mfaPending ? auth.user : null;
  const user = signedIn ? { name: signedIn.name, isPlatformAdmin: signedIn.isPlatformAdmin } : null;
  const notice = signedIn ? policyNoticeFor(signedIn.id, new Date()) : undefined;
  const policyNotice = notice
    ? { version: notice.version, effectiveOn: formatCalendarDay(notice.effectiveDate) }
    : null;
  return data({ flash, user, policyNotice }, { headers });
}

function MainNav() {
  const loaded = useRouteLoaderData<typeof loader>("root");
  const user = loaded?.user;
  return (
    <nav className="nav" aria-label="Main">
      {user ? (
        <>
          <NavLink to="/workspaces">Workspaces</NavLink>
          <NavLink to="/account" end>
            Account
          </NavLink>
          <NavLink to="/account/security">Security</NavLink>
          {user.isPlatformAdmin ? <NavLink to="/admin">Admin</NavLink> : null}
          <Form method="post" action="/logout" className="nav-form">
            <button type="submit" className="link-button">
              Sign out
            </button>
          </Form>
        </>
      ) : (
        <>
          <NavLink to="/privacy">Privacy</NavLink>
          <NavLink to="/login">Sign in</NavLink>
          <NavLink to="/signup">Create account</NavLink>
        </>
      )}
    </nav>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <div className="site-header-inner">
            <Link to="/" className="brand">
              <img src="/favicon.svg" alt="" />
              Pleisys Engage
            </Link>
            <MainNav />
          </div>
        </header>
        <main id="main" className="main">
          {children}
        </main>
        <footer className="site-footer">
          <div className="site-footer-inner">
            <span>© Pleisys</span>
            <Link to="/privacy">Privacy policy</Link>
            <Link to="/dsar">Privacy request</Link>
            <a href="mailto:privacy@pleisys.com">privacy@pleisys.com</a>
          </div>
        </footer>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

/**
 * Policy §9: while a new privacy policy version is published but not yet in force, signed-in
 * people see this on every page until they acknowledge it (which records their acceptance).
 */
function PolicyBanner({ version, effectiveOn }: { version: number; effectiveOn: string }) {
  const location = useLocation();
  return (
    <aside className="alert alert-info policy-banner" aria-label="Privacy policy change">
      <p>
        {`Our privacy policy changes on ${effectiveOn}.`}{" "}
        <Link to={`/privacy/v/${version}`}>Read what changes.</Link>
      </p>
      <Form method="post" action="/privacy/accept" className="policy-banner-form">
        <input type="hidden" name="version" value={version} />
        <input type="hidden" name="redirectTo" value={location.pathname + location.search} />
        <Button type="submit" variant="secondary">
          Got it<span className="visually-hidden">, accept the new privacy policy</span>
        </Button>
      </Form>
    </aside>
  );
}

export default function App() {
  const { flash, policyNotice } = useLoaderData<typeof loader>();
  return (
    <>
      {policyNotice ? <PolicyBanner {...policyNotice} /> : null}
      {flash ? (
        <div className="flash">
          <Alert tone={flash.tone}>{flash.message}</Alert>
        </div>
      ) : null}
      <Outlet />
    </>
  );
}

/** Error pages say what happened in plain words and never show internals. */
export function ErrorBoundary() {
  const error = useRouteError();
  let status = 500;
  let title = "Something went wrong";
  let detail = "We could not complete this request. Please try again in a moment.";
  if (isRouteErrorResponse(error)) {
    status = error.status;
    const message = (error.data as { message?: unknown } | null)?.message;
    if (status === 404) {
      title = "Page not found";
      detail = "The page you asked for does not exist or has moved.";
    } else if (status === 403) {
      title = "Access denied";
      detail = typeof message === "string" ? message : "You do not have access to this page.";
    } else if (status < 500) {
      title = "We could not do that";
      detail = typeof message === "string" ? message : detail;
    }
  }
  return (
    <div className="error-page">
      <p className="status">{status}</p>
      <h1>{title}</h1>
      <p>{detail}</p>
      <ButtonLink to="/">Go to the home page</ButtonLink>
    </div>
  );
}
