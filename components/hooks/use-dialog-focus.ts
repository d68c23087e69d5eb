"use client";

import { useEffect, useRef, type RefObject } from "react";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Open dialogs, innermost last: only the innermost answers Esc and keeps Tab. */
const openDialogs: symbol[] = [];

/**
 * The focus rules of a dialog, panel or sheet: focus moves into it when it opens, Esc closes it,
 * Tab stays inside while it is modal, and focus goes back where it was when it closes.
 */
export function useDialogFocus(
  ref: RefObject<HTMLElement | null>,
  { onClose, modal, initialFocus }: { onClose: () => void; modal: boolean; /** focused first instead of the first control */ initialFocus?: RefObject<HTMLElement | null> },
) {
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  }, [onClose]);
  const trapping = useRef(modal);
  useEffect(() => {
    trapping.current = modal;
  }, [modal]);

  useEffect(() => {
    const id = Symbol("dialog");
    openDialogs.push(id);
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const container = ref.current;
    const focusables = () => [...(container?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? [])].filter((el) => el.offsetParent !== null || el === document.activeElement);
    (initialFocus?.current ?? focusables()[0] ?? container)?.focus();

    const onKey = (event: KeyboardEvent) => {
      if (openDialogs.at(-1) !== id || !container) return;
      if (event.key === "Escape" && !event.defaultPrevented) {
        event.preventDefault();
        close.current();
        return;
      }
      if (event.key !== "Tab" || !trapping.current) return;
      const list = focusables();
      const [first, last] = [list[0], list.at(-1)];
      if (!first || !last) return;
      const inside = container.contains(document.activeElement);
      if (event.shiftKey && (document.activeElement === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      openDialogs.splice(openDialogs.indexOf(id), 1);
      // Back to the opener, unless the reader already moved on (clicked elsewhere).
      if (returnTo?.isConnected && (document.activeElement === document.body || container?.contains(document.activeElement))) returnTo.focus();
    };
  }, [ref, initialFocus]);
}
