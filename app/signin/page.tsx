import type { Metadata } from "next";
import Image from "next/image";
import { redirect } from "next/navigation";
import type { MessageKey } from "@/lib/i18n";
import { auth, signInMethods } from "@/server/auth";
import { safeCallbackPath } from "@/server/auth/callback-url";
import { devSignInAction, googleSignInAction } from "@/server/actions";
import { getI18n } from "@/server/i18n";
import { ErrorNote } from "@/components/error-note";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("nav.signIn") };
}

/** Why a sign-in was refused, by the `error` the sign-in actions (or Auth.js's `code`) pass on. */
const SIGN_IN_ERRORS = new Map<string, MessageKey>([
  ["linked_account", "signin.linkedAccount"],
  ["sign_up_limit", "signin.signUpLimit"],
]);

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string | string[]; error?: string | string[]; code?: string | string[] }>;
}) {
  const [{ t }, session, params] = await Promise.all([getI18n(), auth(), searchParams]);
  const callbackUrl = safeCallbackPath(params.callbackUrl);
  if (session?.user) redirect(callbackUrl);
  const methods = signInMethods();

  return (
    <main className="mx-auto flex w-full max-w-md flex-1 flex-col justify-center px-4 py-10">
      <div className="card p-6 shadow-2xl shadow-black/40 sm:p-8">
        <Image src="/brand/logo.svg" alt="" width={48} height={48} className="mb-5" />
        <h1 className="text-2xl font-extrabold tracking-tight">{t("signin.title")}</h1>
        <p className="mt-2 text-sm leading-relaxed text-zinc-400">{t("signin.body")}</p>
        {params.error && (
          <ErrorNote className="mt-4" testId="signin-error">
            {t(SIGN_IN_ERRORS.get(String(params.code ?? params.error)) ?? "signin.failed")}
          </ErrorNote>
        )}

        {methods.google && (
          <form action={googleSignInAction} className="mt-6">
            <input type="hidden" name="callbackUrl" value={callbackUrl} />
            <button type="submit" className="btn w-full bg-white py-3 text-zinc-900 hover:bg-zinc-200" data-testid="google-signin">
              <svg viewBox="0 0 48 48" className="size-5" aria-hidden>
                <path fill="#FFC107" d="M43.6 20.5H42V20H24v8h11.3C33.7 32.7 29.2 36 24 36c-6.6 0-12-5.4-12-12s5.4-12 12-12c3.1 0 5.8 1.2 7.9 3.1l5.7-5.7C34 6.1 29.3 4 24 4 12.9 4 4 12.9 4 24s8.9 20 20 20 20-8.9 20-20c0-1.3-.1-2.4-.4-3.5z" />
                <path fill="#FF3D00" d="m6.3 14.7 6.6 4.8C14.7 15.1 19 12 24 12c3.1 0 5.8 1.2 7.9 3.1l5.7-5.7C34 6.1 29.3 4 24 4 16.3 4 9.7 8.3 6.3 14.7z" />
                <path fill="#4CAF50" d="M24 44c5.2 0 9.9-2 13.4-5.2l-6.2-5.2c-2 1.5-4.5 2.4-7.2 2.4-5.2 0-9.6-3.3-11.3-8l-6.5 5C9.5 39.6 16.2 44 24 44z" />
                <path fill="#1976D2" d="M43.6 20.5H42V20H24v8h11.3c-.8 2.2-2.2 4.2-4.1 5.6l6.2 5.2C37 39.2 44 34 44 24c0-1.3-.1-2.4-.4-3.5z" />
              </svg>
              {t("signin.google")}
            </button>
          </form>
        )}

        {methods.dev && (
          <form action={devSignInAction} className="mt-6 space-y-3 border-t border-white/[0.06] pt-6" data-testid="dev-signin">
            <div>
              <p className="text-sm font-semibold">{t("signin.devTitle")}</p>
              <p className="mt-1 text-xs leading-relaxed text-zinc-500">{t("signin.devBody")}</p>
            </div>
            <input type="hidden" name="callbackUrl" value={callbackUrl} />
            <div>
              <label className="label" htmlFor="dev-email">
                {t("signin.email")}
              </label>
              <input id="dev-email" name="email" type="email" required maxLength={200} className="field" placeholder="you@example.com" />
            </div>
            <div>
              <label className="label" htmlFor="dev-name">
                {t("signin.name")}
              </label>
              <input id="dev-name" name="name" maxLength={80} className="field" />
            </div>
            <button type="submit" className="btn-ghost w-full py-3">
              {t("signin.submit")}
            </button>
          </form>
        )}

        {!methods.google && !methods.dev && <p className="mt-6 text-sm text-amber-300">{t("signin.none")}</p>}
      </div>
    </main>
  );
}
