import { Fragment } from "react";

const NARRATION = /(\*[^*\n]+\*)/g;

/** Role-play text: `*actions*` render as narration, everything else as plain text. */
export function MessageText({ text }: { text: string }) {
  return (
    <>
      {text.split(NARRATION).map((part, index) =>
        part.length > 2 && part.startsWith("*") && part.endsWith("*") ? (
          <em key={index} className="text-zinc-400" data-narration="">
            {part.slice(1, -1)}
          </em>
        ) : (
          <Fragment key={index}>{part}</Fragment>
        ),
      )}
    </>
  );
}
