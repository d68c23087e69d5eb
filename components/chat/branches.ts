/** A chat of the list, with how deep it sits under the chats it was branched from. */
export interface Nested<T> {
  chat: T;
  /** 0 for a chat whose parent is not in the list (or that has none) */
  depth: number;
}

/**
 * Orders a list of chats (most recent first) so that each branch comes right after the chat it
 * was made from, most recent branch first, when that chat is in the list; the rest keep their order.
 */
export function nestBranches<T extends { id: string; parentId: string | null }>(chats: readonly T[]): Nested<T>[] {
  const present = new Set(chats.map((chat) => chat.id));
  const children = new Map<string, T[]>();
  for (const chat of chats) {
    if (chat.parentId && chat.parentId !== chat.id && present.has(chat.parentId)) {
      children.set(chat.parentId, [...(children.get(chat.parentId) ?? []), chat]);
    }
  }
  const out: Nested<T>[] = [];
  const placed = new Set<string>();
  const visit = (chat: T, depth: number) => {
    if (placed.has(chat.id)) return;
    placed.add(chat.id);
    out.push({ chat, depth });
    for (const child of children.get(chat.id) ?? []) visit(child, depth + 1);
  };
  for (const chat of chats) if (!chat.parentId || !present.has(chat.parentId)) visit(chat, 0);
  // A cycle (impossible from the app, but data is data) still lists every chat once.
  for (const chat of chats) visit(chat, 0);
  return out;
}
