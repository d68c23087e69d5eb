import "pretendard/dist/web/variable/pretendardvariable-dynamic-subset.css";
import "./globals.css";

import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { I18nProvider } from "@/components/i18n-provider";
import { SiteHeader } from "@/components/site-header";
import { TimeZoneSync } from "@/components/time-zone-sync";
import { TRPCReactProvider } from "@/lib/trpc/react";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return {
    title: { default: t("app.name"), template: `%s · ${t("app.name")}` },
    description: t("app.tagline"),
    icons: { icon: "/brand/logo.svg" },
  };
}

export const viewport: Viewport = { themeColor: "#08080d", width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const { locale, timeZone } = await getI18n();
  return (
    <html lang={locale}>
      <body className="flex min-h-dvh flex-col">
        <TRPCReactProvider>
          <I18nProvider locale={locale} timeZone={timeZone}>
            <TimeZoneSync serverTimeZone={timeZone} />
            <SiteHeader />
            {children}
          </I18nProvider>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
