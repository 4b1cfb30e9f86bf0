import type { MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { Card } from "~/components/ui/layout";

export const meta: MetaFunction = () => [
  { title: "Pleisys Engage — WhatsApp, email, SMS and Telegram marketing" },
  {
    name: "description",
    content: "Multi-channel marketing automation that is fast, safe and honest about privacy.",
  },
];

export default function Index() {
  return (
    <>
      <section className="hero">
        <h1>Reach your customers where they are.</h1>
        <p>
          Pleisys Engage sends campaigns over WhatsApp, email, SMS and Telegram to the contacts you
          import and segment — fast, paced within every provider&apos;s limits, and honest about
          privacy.
        </p>
      </section>
      <div className="feature-grid">
        <Card title="Every channel, one place">
          <p>WhatsApp Cloud API, AWS SES or your own SMTP, SMS and Telegram.</p>
        </Card>
        <Card title="Your data stays yours">
          <p>
            Each workspace lives in its own database, stored in India. Read our{" "}
            <Link to="/privacy">privacy policy</Link>.
          </p>
        </Card>
        <Card title="Built for the people you message">
          <p>Consent, unsubscribe and data requests are part of the product, not an add-on.</p>
        </Card>
      </div>
    </>
  );
}
