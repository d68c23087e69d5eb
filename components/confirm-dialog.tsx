"use client";

import { useRef } from "react";
import { createPortal } from "react-dom";
import { useI18n } from "./i18n-provider";
import { useDialogFocus } from "./hooks/use-dialog-focus";

/**
 * A modal question with a destructive answer; Esc or the backdrop cancels. Focus starts on
 * Cancel, stays inside while it is open (Tab cycles between its buttons) and returns to where it
 * was when it closes.
 */
export function ConfirmDialog({
  title,
  body,
  confirmLabel,
  pending,
  onConfirm,
  onCancel,
  alternative,
}: {
  title: string;
  body: string;
  confirmLabel: string;
  pending?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  /** A safer way to get what the user wanted, offered first (and focused) instead of Cancel. */
  alternative?: { label: string; onSelect: () => void };
}) {
  const { t } = useI18n();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  // Over a panel or sheet, Esc closes only this question.
  useDialogFocus(dialogRef, { onClose: onCancel, modal: true, initialFocus: cancelRef });

  return createPortal(
    <div className="fixed inset-0 z-50 grid place-items-center bg-black/60 p-4 backdrop-blur-sm" onMouseDown={onCancel}>
      <div
        ref={dialogRef}
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        className="card w-full max-w-sm p-5 shadow-2xl"
        onMouseDown={(event) => event.stopPropagation()}
        data-testid="confirm-dialog"
      >
        <h2 id="confirm-title" className="text-lg font-bold">
          {title}
        </h2>
        <p className="mt-2 text-sm leading-relaxed text-zinc-400">{body}</p>
        <div className="mt-5 flex flex-wrap justify-end gap-2">
          <button ref={alternative ? undefined : cancelRef} type="button" className="btn-ghost" onClick={onCancel}>
            {t("common.cancel")}
          </button>
          <button type="button" className="btn bg-rose-600 text-white hover:bg-rose-500" onClick={onConfirm} disabled={pending} data-testid="confirm">
            {confirmLabel}
          </button>
          {alternative && (
            <button ref={cancelRef} type="button" className="btn-primary" onClick={alternative.onSelect} disabled={pending} data-testid="confirm-alternative">
              {alternative.label}
            </button>
          )}
        </div>
      </div>
    </div>,
    document.body,
  );
}
