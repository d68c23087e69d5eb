/** What a download is called: readable, safe on every file system, with the date and time so a day's downloads differ. */
export function downloadName(parts: (string | null | undefined)[], when: Date, extension: string) {
  const stamp = when.toISOString().slice(0, 16).replace("T", "_").replace(":", "");
  const base = parts
    .map((p) => (p ?? "").replace(/[\u0000-\u001f\u007f-\u009f/\\:*?"<>|\u202a-\u202e\u2066-\u2069]+/g, " ").replace(/\s+/g, " ").trim())
    .filter(Boolean)
    .filter((p, i, all) => all.indexOf(p) === i)
    .join(" - ")
    .slice(0, 80)
    .trim();
  return `${base || "chat"} ${stamp}.${extension}`;
}

/** `Content-Disposition` with an ASCII fallback and the real (Korean) name per RFC 5987. */
export function contentDisposition(filename: string) {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%]/g, "_");
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
