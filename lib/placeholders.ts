/**
 * `{{char}}`/`<BOT>` and `{{user}}`/`<USER>` in a character's text, replaced by the names they
 * stand for (the same rule as the prompt's, server/chat/prompt.ts, safe for the browser).
 */
export function substitutePlaceholders(text: string, names: { char: string; user: string }) {
  return text.replace(/\{\{char\}\}|<bot>/gi, () => names.char).replace(/\{\{user\}\}|<user>/gi, () => names.user);
}
