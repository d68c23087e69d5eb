"use client";

import type { ReactNode } from "react";

/** A small square button with only an icon; the label is its tooltip and accessible name. */
export function IconButton({
  label,
  onClick,
  children,
  testId,
  disabled,
}: {
  label: string;
  onClick: () => void;
  children: ReactNode;
  testId?: string;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      onClick={onClick}
      title={label}
      aria-label={label}
      disabled={disabled}
      data-testid={testId}
      className="grid size-8 place-items-center rounded-lg text-zinc-500 hover:bg-white/10 hover:text-zinc-100 disabled:opacity-40"
    >
      {children}
    </button>
  );
}
