/** Gallery filters, shared by the server (first page prefetch) and the client (the URL). */
export const SCOPES = ["all", "presets", "mine", "public"] as const;
export type Scope = (typeof SCOPES)[number];
export const GALLERY_PAGE = 12;

export interface GalleryFilters {
  scope: Scope;
  q: string;
  category: string;
  tag: string;
}

/** Reads the filters from the URL, so a filtered gallery survives reload and can be shared. */
export function filtersFrom(params: { get(name: string): string | null }): GalleryFilters {
  const scope = params.get("scope");
  return {
    scope: SCOPES.includes(scope as Scope) ? (scope as Scope) : "all",
    q: params.get("q")?.slice(0, 100) ?? "",
    category: params.get("category")?.slice(0, 32) ?? "",
    tag: params.get("tag")?.slice(0, 32) ?? "",
  };
}

export function galleryInput(filters: GalleryFilters) {
  return {
    scope: filters.scope,
    limit: GALLERY_PAGE,
    ...(filters.q ? { q: filters.q } : {}),
    ...(filters.category ? { category: filters.category } : {}),
    ...(filters.tag ? { tag: filters.tag } : {}),
  };
}
