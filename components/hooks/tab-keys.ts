import type { KeyboardEvent } from "react";

/**
 * Arrow keys, Home and End in a tab list (WAI-ARIA tabs, automatic activation): the next tab is
 * focused and chosen. Put on the `role="tablist"` element; its tabs are its `role="tab"` children.
 */
export function onTabListKeyDown(event: KeyboardEvent<HTMLElement>) {
  const tabs = [...event.currentTarget.querySelectorAll<HTMLElement>('[role="tab"]:not([disabled])')];
  const at = tabs.indexOf(document.activeElement as HTMLElement);
  if (at < 0) return;
  const next =
    event.key === "ArrowRight" || event.key === "ArrowDown"
      ? (at + 1) % tabs.length
      : event.key === "ArrowLeft" || event.key === "ArrowUp"
        ? (at - 1 + tabs.length) % tabs.length
        : event.key === "Home"
          ? 0
          : event.key === "End"
            ? tabs.length - 1
            : null;
  if (next === null) return;
  event.preventDefault();
  tabs[next]?.focus();
  tabs[next]?.click();
}
