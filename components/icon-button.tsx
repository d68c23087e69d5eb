"use client";

import type { ReactNode } from "react";

/** A small square button with only an icon; the label is its tooltip and accessible name. */
export function IconButton({
  label,
  onClick,
  children,
  testId,
  disabled,
  pressed,
}: {
  label: string;
  onClick: () => void;
  children: ReactNode;
  testId?: string;
  disabled?: boolean;
  /** For toggles (play/stop): announced as pressed, and tinted while on. */
  pressed?: boolean;
}) {
  return (
    <button
      type="button"
      onClick={onClick}
      title={label}
      aria-label={label}
      disabled={disabled}
      aria-pressed={pressed}
      data-testid={testId}
      className={`grid size-8 place-items-center rounded-lg hover:bg-white/10 hover:text-zinc-100 disabled:opacity-40 ${pressed ? "text-brand-300" : "text-zinc-500"}`}
    >
      {children}
    </button>
  );
}
