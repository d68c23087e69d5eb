"use server";

import { cookies } from "next/headers";
import { AuthError } from "next-auth";
import { redirect } from "next/navigation";
import { isLocale, LOCALE_COOKIE } from "@/lib/i18n";
import { signIn, signOut } from "@/server/auth";

export async function setLocaleAction(locale: string) {
  if (!isLocale(locale)) return;
  (await cookies()).set(LOCALE_COOKIE, locale, { path: "/", maxAge: 60 * 60 * 24 * 365, sameSite: "lax" });
}

export async function signOutAction() {
  await signOut({ redirectTo: "/" });
}

/** Only same-site paths, so a crafted link can't send people elsewhere after sign-in. */
function safeCallback(value: FormDataEntryValue | null) {
  const path = typeof value === "string" ? value : "/";
  return path.startsWith("/") && !path.startsWith("//") ? path : "/";
}

export async function googleSignInAction(formData: FormData) {
  await signIn("google", { redirectTo: safeCallback(formData.get("callbackUrl")) });
}

export async function devSignInAction(formData: FormData) {
  const callbackUrl = safeCallback(formData.get("callbackUrl"));
  try {
    await signIn("dev", { email: formData.get("email"), name: formData.get("name"), redirectTo: callbackUrl });
  } catch (error) {
    // signIn redirects by throwing; only real failures are AuthErrors.
    if (error instanceof AuthError) redirect(`/signin?error=1&callbackUrl=${encodeURIComponent(callbackUrl)}`);
    throw error;
  }
}
