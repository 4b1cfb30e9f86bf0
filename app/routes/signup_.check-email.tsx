import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { Card } from "~/components/ui/layout";

export const meta: MetaFunction = () => [{ title: "Check your email — Pleisys Engage" }];

export function loader({ request }: LoaderFunctionArgs) {
  const email = new URL(request.url).searchParams.get("email")?.slice(0, 254) ?? "";
  return { email };
}

export default function CheckEmailPage() {
  const { email } = useLoaderData<typeof loader>();
  return (
    <div className="auth-page">
      <Card>
        <h1>Check your email</h1>
        <p>
          We sent a link to {email ? <strong>{email}</strong> : "your address"}. Open it within 24
          hours to verify your address, then sign in.
        </p>
        <p className="muted">
          No mail after a few minutes? Check your spam folder, or <Link to="/login">sign in</Link>{" "}
          to send the link again.
        </p>
      </Card>
    </div>
  );
}
