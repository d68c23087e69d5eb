"use client";

import { useDialogFocus } from "../hooks/use-dialog-focus";
import { useMutation } from "@tanstack/react-query";
import { useId, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { describeError } from "@/lib/app-error";
import { useTRPC } from "@/lib/trpc/react";
import { signOutToSignInAction } from "@/server/actions";
import { ErrorNote } from "../error-note";
import { useI18n } from "../i18n-provider";
import { DownloadIcon, TrashIcon } from "../icons";

/** "Export all my data" (one JSON file) and "delete my account" (confirmed by typing the account's email). */
export function AccountData({ email }: { email: string }) {
  const { t } = useI18n();
  const [confirming, setConfirming] = useState(false);

  return (
    <section className="card mt-6 p-5 sm:p-6" aria-labelledby="account-data-title" data-testid="account-data">
      <h2 id="account-data-title" className="text-lg font-bold">
        {t("accountData.title")}
      </h2>
      <p className="mt-2 text-sm leading-relaxed text-zinc-400">{t("accountData.exportBody")}</p>
      <a className="btn-ghost mt-4" href="/api/account/export" download data-testid="export-account">
        <DownloadIcon /> {t("accountData.export")}
      </a>
      <div className="mt-6 rounded-xl border border-rose-400/25 bg-rose-500/[0.05] p-4">
        <h3 className="font-semibold text-rose-200">{t("accountData.deleteTitle")}</h3>
        <p className="mt-1 text-sm leading-relaxed text-zinc-400">{t("accountData.deleteBody")}</p>
        <button type="button" className="btn-ghost mt-3 border-rose-400/40 text-rose-200 hover:bg-rose-500/10" onClick={() => setConfirming(true)} data-testid="delete-account">
          <TrashIcon /> {t("accountData.delete")}
        </button>
      </div>
      {confirming && <DeleteAccountDialog email={email} onCancel={() => setConfirming(false)} />}
    </section>
  );
}

function DeleteAccountDialog({ email, onCancel }: { email: string; onCancel: () => void }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const titleId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [typed, setTyped] = useState("");
  const remove = useMutation(trpc.account.delete.mutationOptions({ onSuccess: () => signOutToSignInAction() }));
  const matches = typed.trim().toLowerCase() === email.trim().toLowerCase();
  const busy = remove.isPending || remove.isSuccess;
  const dialogRef = useRef<HTMLFormElement>(null);
  // Focus in (on the field to type in), Tab kept inside, Esc closes unless deleting, focus goes back.
  useDialogFocus(dialogRef, { onClose: () => !busy && onCancel(), modal: true, initialFocus: inputRef });

  return createPortal(
    <div className="fixed inset-0 z-50 grid place-items-center bg-black/60 p-4 backdrop-blur-sm" onMouseDown={() => !busy && onCancel()}>
      <form
        ref={dialogRef}
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        className="card w-full max-w-md p-5 shadow-2xl"
        onMouseDown={(e) => e.stopPropagation()}
        onSubmit={(e) => {
          e.preventDefault();
          if (matches && !busy) remove.mutate({ confirm: typed });
        }}
        data-testid="delete-account-dialog"
      >
        <h2 id={titleId} className="text-lg font-bold">
          {t("accountData.confirmTitle")}
        </h2>
        <p className="mt-2 text-sm leading-relaxed break-all text-zinc-400">{t("accountData.confirmBody", { email })}</p>
        <label className="mt-4 block">
          <span className="label">{t("accountData.confirmLabel")}</span>
          <input
            ref={inputRef}
            className="field"
            type="email"
            autoComplete="off"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            data-testid="delete-account-confirm"
          />
        </label>
        {remove.error && <ErrorNote className="mt-3">{describeError(remove.error, t)}</ErrorNote>}
        <div className="mt-5 flex flex-wrap justify-end gap-2">
          <button type="button" className="btn-ghost" onClick={onCancel} disabled={busy}>
            {t("accountData.cancel")}
          </button>
          <button type="submit" className="btn-primary bg-none bg-rose-600 hover:bg-rose-500" disabled={!matches || busy} data-testid="delete-account-submit">
            {t("accountData.confirm")}
          </button>
        </div>
      </form>
    </div>,
    document.body,
  );
}
