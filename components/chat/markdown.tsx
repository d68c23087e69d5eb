import ReactMarkdown, { type Components } from "react-markdown";

/**
 * Replies are Markdown; raw HTML is never rendered (skipHtml) and images are not loaded.
 * `*actions*` are Markdown emphasis, shown as narration.
 */
const components: Components = {
  em: ({ children }) => (
    <em className="text-zinc-400" data-narration="">
      {children}
    </em>
  ),
  strong: ({ children }) => <strong className="font-semibold text-white">{children}</strong>,
  p: ({ children }) => <p className="mb-2 last:mb-0">{children}</p>,
  a: ({ children, href }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow" className="text-brand-300 underline underline-offset-2">
      {children}
    </a>
  ),
  code: ({ children }) => <code className="rounded bg-black/30 px-1 py-0.5 font-mono text-[13px]">{children}</code>,
  pre: ({ children }) => <pre className="my-2 overflow-x-auto rounded-lg bg-black/30 p-3 text-[13px]">{children}</pre>,
  ul: ({ children }) => <ul className="mb-2 list-disc pl-5">{children}</ul>,
  ol: ({ children }) => <ol className="mb-2 list-decimal pl-5">{children}</ol>,
  blockquote: ({ children }) => <blockquote className="mb-2 border-l-2 border-white/20 pl-3 text-zinc-300">{children}</blockquote>,
  img: () => null,
};

export function Markdown({ text }: { text: string }) {
  return (
    <ReactMarkdown skipHtml components={components}>
      {text}
    </ReactMarkdown>
  );
}
