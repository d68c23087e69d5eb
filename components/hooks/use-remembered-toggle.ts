"use client";

import { useCallback, useSyncExternalStore } from "react";

const CHANGED = "af-remembered-toggle";

/**
 * A yes/no choice kept in this browser (localStorage), shared by every component using the same
 * key. The server and the first paint use `initial`, so hydration never disagrees.
 */
export function useRememberedToggle(key: string, initial: boolean): [boolean, (value: boolean) => void] {
  const subscribe = useCallback((notify: () => void) => {
    window.addEventListener("storage", notify);
    window.addEventListener(CHANGED, notify);
    return () => {
      window.removeEventListener("storage", notify);
      window.removeEventListener(CHANGED, notify);
    };
  }, []);
  const read = () => {
    try {
      const stored = window.localStorage.getItem(key);
      return stored === null ? initial : stored === "1";
    } catch {
      return initial;
    }
  };
  const value = useSyncExternalStore(subscribe, read, () => initial);
  const set = useCallback(
    (next: boolean) => {
      try {
        window.localStorage.setItem(key, next ? "1" : "0");
      } catch {
        // Private mode without storage: the choice holds until the page closes.
      }
      window.dispatchEvent(new Event(CHANGED));
    },
    [key],
  );
  return [value, set];
}
