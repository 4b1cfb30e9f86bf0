import { Link, type LinkProps } from "@remix-run/react";
import type { ButtonHTMLAttributes } from "react";

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost";

function classes(variant: ButtonVariant, extra?: string) {
  return ["btn", `btn-${variant}`, extra].filter(Boolean).join(" ");
}

export function Button({
  variant = "primary",
  className,
  type = "submit",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant }) {
  return <button type={type} className={classes(variant, className)} {...props} />;
}

export function ButtonLink({
  variant = "secondary",
  className,
  ...props
}: LinkProps & { variant?: ButtonVariant }) {
  return <Link className={classes(variant, className)} {...props} />;
}
