"use client";

import { useRef, type ReactNode } from "react";
import { useDialogFocus } from "./hooks/use-dialog-focus";
import { useMediaQuery } from "./hooks/use-media-query";

/** Below this width a side panel would squeeze the page: it slides over it instead. */
const OVERLAY_QUERY = "(max-width: 1023.98px)";

/**
 * A panel beside the page on wide screens and a sheet over it (with a backdrop) below 1024 px.
 * Either way focus moves into it, Esc closes it and focus returns to the opener; as a sheet it
 * is modal and keeps Tab inside.
 */
export function SideSheet({ onClose, labelledBy, children, testId }: { onClose: () => void; labelledBy: string; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const overlay = useMediaQuery(OVERLAY_QUERY);
  useDialogFocus(ref, { onClose, modal: overlay });
  return (
    <>
      <div className="fixed inset-0 z-40 bg-black/60 backdrop-blur-[2px] lg:hidden" onMouseDown={onClose} aria-hidden data-testid="sheet-backdrop" />
      <div
        ref={ref}
        role="dialog"
        aria-modal={overlay || undefined}
        aria-labelledby={labelledBy}
        tabIndex={-1}
        className="fixed inset-y-0 right-0 z-50 flex w-full max-w-sm flex-col border-l border-white/[0.06] bg-ink-900 shadow-2xl outline-none lg:static lg:z-auto lg:order-last lg:w-80 lg:max-w-none lg:shadow-none"
        data-testid={testId}
        data-overlay={overlay || undefined}
      >
        {children}
      </div>
    </>
  );
}
