"use server";

import { cookies } from "next/headers";
import { AuthError, CredentialsSignin } from "next-auth";
import { redirect } from "next/navigation";
import { isLocale, LOCALE_COOKIE } from "@/lib/i18n";
import { signIn, signOut } from "@/server/auth";
import { safeCallbackPath } from "@/server/auth/callback-url";
import { SIGN_IN_ERROR_CODES } from "@/server/auth/dev-sign-in";

export async function setLocaleAction(locale: string) {
  if (!isLocale(locale)) return;
  (await cookies()).set(LOCALE_COOKIE, locale, { path: "/", maxAge: 60 * 60 * 24 * 365, sameSite: "lax" });
}

export async function signOutAction() {
  await signOut({ redirectTo: "/" });
}

/**
 * After "sign out everywhere" this browser's cookie names a session that no longer exists:
 * clear it and go to the sign-in page.
 */
export async function signOutToSignInAction() {
  await signOut({ redirectTo: "/signin" });
}

export async function googleSignInAction(formData: FormData) {
  await signIn("google", { redirectTo: safeCallbackPath(formData.get("callbackUrl")) });
}

export async function devSignInAction(formData: FormData) {
  const callbackUrl = safeCallbackPath(formData.get("callbackUrl"));
  try {
    await signIn("dev", { email: formData.get("email"), name: formData.get("name"), redirectTo: callbackUrl });
  } catch (error) {
    // signIn redirects by throwing; only real failures are AuthErrors. A refusal the page can
    // explain keeps its code; anything else is a plain "sign-in failed".
    if (error instanceof AuthError) {
      const known = error instanceof CredentialsSignin && (SIGN_IN_ERROR_CODES as readonly string[]).includes(error.code);
      redirect(`/signin?error=${known ? error.code : "1"}&callbackUrl=${encodeURIComponent(callbackUrl)}`);
    }
    throw error;
  }
}
