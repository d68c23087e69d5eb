"use client";

import type { ReactNode } from "react";

/** An icon button's box: 32 px with a mouse, a 44 px touch target on phones and touch screens. */
export const ICON_BUTTON_BOX = "grid size-8 shrink-0 place-items-center rounded-lg max-md:size-11 pointer-coarse:size-11";

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
      className={`${ICON_BUTTON_BOX} hover:bg-white/10 hover:text-zinc-100 disabled:opacity-40 ${pressed ? "text-brand-300" : "text-zinc-500"}`}
    >
      {children}
    </button>
  );
}
