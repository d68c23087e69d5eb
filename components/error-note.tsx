import type { ReactNode } from "react";

/** A sentence saying what went wrong, announced to screen readers. */
export function ErrorNote({ children, className = "", testId }: { children: ReactNode; className?: string; testId?: string }) {
  return (
    <p className={`rounded-lg bg-rose-500/10 px-3 py-2 text-sm text-rose-300 ${className}`} role="alert" data-testid={testId}>
      {children}
    </p>
  );
}
