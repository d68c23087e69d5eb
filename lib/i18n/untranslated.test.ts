import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Every word a person reads comes from the catalogs (lib/i18n/en.ts and ko.ts): this scans the
 * components and pages for text written straight into JSX, and for user-visible attributes
 * given as literals, which would show one language to everyone.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const SCANNED = ["components", "app"];
const VISIBLE_ATTRIBUTES = new Set(["aria-label", "title", "placeholder", "alt", "aria-description", "aria-placeholder", "aria-roledescription", "aria-valuetext"]);
/** The same in every language: names of things, and examples of what to type (an email, a header). */
const ALLOWED = new Set(["Avatar Forge", "Ollama", "GPT-SoVITS", "Google", "you@example.com", "Authorization: Bearer af_…"]);
/** Something to read: a letter of any script. */
const WORDS = /\p{L}{2,}/u;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return files(full);
    return entry.name.endsWith(".tsx") && !entry.name.endsWith(".test.tsx") ? [full] : [];
  });
}

/** The string literals an expression can evaluate to (through ?:, &&, || and ??). */
function shownLiterals(expression: ts.Expression): (ts.StringLiteral | ts.NoSubstitutionTemplateLiteral)[] {
  if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return [expression];
  if (ts.isParenthesizedExpression(expression)) return shownLiterals(expression.expression);
  if (ts.isConditionalExpression(expression)) return [...shownLiterals(expression.whenTrue), ...shownLiterals(expression.whenFalse)];
  if (ts.isBinaryExpression(expression) && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(expression.operatorToken.kind)) {
    return [...shownLiterals(expression.left), ...shownLiterals(expression.right)];
  }
  return [];
}

/** `file:line: text` for each literal a reader would see. */
export function untranslatedLiterals(file: string, source = readFileSync(file, "utf8")) {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const report = (node: ts.Node, text: string) => {
    const clean = text.replace(/\s+/g, " ").trim();
    if (!WORDS.test(clean) || ALLOWED.has(clean)) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    found.push(`${path.relative(ROOT, file)}:${line}: ${clean}`);
  };
  const visit = (node: ts.Node) => {
    if (ts.isJsxText(node)) report(node, node.text);
    if (ts.isJsxAttribute(node) && VISIBLE_ATTRIBUTES.has(node.name.getText(sf)) && node.initializer) {
      const value = node.initializer;
      if (ts.isStringLiteral(value)) report(node, value.text);
      if (ts.isJsxExpression(value) && value.expression && (ts.isStringLiteral(value.expression) || ts.isNoSubstitutionTemplateLiteral(value.expression))) {
        report(node, value.expression.text);
      }
    }
    // A string literal as a JSX child: {"Send"}, {busy ? "Saving" : t("save")}, {error && "Failed"}.
    if (ts.isJsxExpression(node) && node.parent && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent)) && node.expression) {
      for (const literal of shownLiterals(node.expression)) report(literal, literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe("untranslated text", () => {
  it("finds text written into JSX and visible attributes (so the check can fail)", () => {
    const sample = `export const A = () => <div title="Close"><p>Hello there</p>{"Send"}<img alt="" /><b>{t("x")}</b>{busy ? "Saving" : t("save")}<i className="text-sm">Aria</i></div>;`;
    expect(untranslatedLiterals(path.join(ROOT, "sample.tsx"), sample).map((line) => line.split(": ")[1])).toEqual(["Close", "Hello there", "Send", "Saving", "Aria"]);
  });

  it("no component or page shows text that is not from the catalogs", () => {
    const found = SCANNED.flatMap((dir) => files(path.join(ROOT, dir))).flatMap((file) => untranslatedLiterals(file));
    expect(found).toEqual([]);
  });
});
