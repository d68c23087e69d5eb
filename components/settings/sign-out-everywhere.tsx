"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "@/lib/app-error";
import { useTRPC } from "@/lib/trpc/react";
import { signOutToSignInAction } from "@/server/actions";
import { ConfirmDialog } from "../confirm-dialog";
import { ErrorNote } from "../error-note";
import { useI18n } from "../i18n-provider";

/**
 * "Sign out everywhere": ends every session of the account, this browser's included, then
 * clears this browser's (now dead) cookie on the way to the sign-in page.
 */
export function SignOutEverywhere() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const [confirming, setConfirming] = useState(false);
  const signOutEverywhere = useMutation(
    trpc.account.signOutEverywhere.mutationOptions({
      onSuccess: () => signOutToSignInAction(),
      onError: () => setConfirming(false),
    }),
  );

  return (
    <section className="card mt-6 p-5 sm:p-6" aria-labelledby="signed-in-title">
      <h2 id="signed-in-title" className="text-lg font-bold">
        {t("signedIn.title")}
      </h2>
      <p className="mt-2 text-sm leading-relaxed text-zinc-400">{t("signedIn.body")}</p>
      <button type="button" className="btn-ghost mt-4" onClick={() => setConfirming(true)} data-testid="sign-out-everywhere">
        {t("signedIn.signOutEverywhere")}
      </button>
      {signOutEverywhere.error && <ErrorNote className="mt-3">{describeError(signOutEverywhere.error, t)}</ErrorNote>}
      {confirming && (
        <ConfirmDialog
          title={t("signedIn.confirmTitle")}
          body={t("signedIn.confirmBody")}
          confirmLabel={t("signedIn.signOutEverywhere")}
          pending={signOutEverywhere.isPending || signOutEverywhere.isSuccess}
          onConfirm={() => signOutEverywhere.mutate()}
          onCancel={() => setConfirming(false)}
        />
      )}
    </section>
  );
}
