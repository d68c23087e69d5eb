import { describe, expect, it } from "vitest";
import { MAX_SENTENCE_CHARS, SentenceSplitter, splitSentences, spokenText } from "./sentences";

/** Feeds the splitter the given chunks and returns every sentence it gave, flush included. */
function stream(chunks: string[]): string[] {
  const splitter = new SentenceSplitter();
  const sentences: string[] = [];
  for (const chunk of chunks) sentences.push(...splitter.push(chunk));
  sentences.push(...splitter.flush());
  return sentences;
}

describe("splitSentences: Latin punctuation", () => {
  it("splits Korean sentences ended by . ? ! and a space", () => {
    expect(splitSentences("안녕하세요. 반가워요! 오늘 기분은 어때요? 저는 좋아요.")).toEqual([
      "안녕하세요.",
      "반가워요!",
      "오늘 기분은 어때요?",
      "저는 좋아요.",
    ]);
  });

  it("splits English sentences and keeps runs like ?! and !!! together", () => {
    expect(splitSentences("Hello there. Are you sure?! Yes!!! Fine")).toEqual(["Hello there.", "Are you sure?!", "Yes!!!", "Fine"]);
  });

  it("does not split decimals", () => {
    expect(splitSentences("원주율은 3.14예요. 온도는 36.5도고요.")).toEqual(["원주율은 3.14예요.", "온도는 36.5도고요."]);
    expect(splitSentences("Pi is 3.14159 roughly. Right.")).toEqual(["Pi is 3.14159 roughly.", "Right."]);
  });

  it("does not split at a dot glued to the next word", () => {
    expect(splitSentences("Use e.g.x or a.b.c here. 파일명은 config.ts예요.")).toEqual(["Use e.g.x or a.b.c here.", "파일명은 config.ts예요."]);
  });

  it("does not split after a title or e.g./i.e. before a space", () => {
    expect(splitSentences("Mr. Kim met Dr. Lee. Bring fruit, e.g. apples. Done.")).toEqual([
      "Mr. Kim met Dr. Lee.",
      "Bring fruit, e.g. apples.",
      "Done.",
    ]);
  });

  it("keeps a list number with its item", () => {
    expect(splitSentences("1. 첫째 항목\n2. 둘째 항목")).toEqual(["1. 첫째 항목", "2. 둘째 항목"]);
  });

  it("does not split at ! or ? followed directly by a Latin letter", () => {
    expect(splitSentences("Hey!you there? Yes")).toEqual(["Hey!you there?", "Yes"]);
  });
});

describe("splitSentences: ellipses", () => {
  it("ends a Korean sentence at ... followed by a space and keeps the ellipsis", () => {
    expect(splitSentences("음... 글쎄요.")).toEqual(["음...", "글쎄요."]);
  });

  it("treats … and …… like ...", () => {
    expect(splitSentences("그게… 사실은…… 아니야.")).toEqual(["그게…", "사실은……", "아니야."]);
    expect(splitSentences("我……我不知道…… 算了。")).toEqual(["我……我不知道……", "算了。"]);
  });

  it("does not split at an ellipsis inside a word", () => {
    expect(splitSentences("wait...what? 그래...요 알았어.")).toEqual(["wait...what?", "그래...요 알았어."]);
  });

  it("keeps an ellipsis at the very end", () => {
    expect(splitSentences("그러니까...")).toEqual(["그러니까..."]);
  });
});

describe("splitSentences: CJK punctuation", () => {
  it("splits Chinese at full-width stops without spaces", () => {
    expect(splitSentences("好的。我们走吧！你确定吗？")).toEqual(["好的。", "我们走吧！", "你确定吗？"]);
  });

  it("splits Japanese at 。 with no space after it", () => {
    expect(splitSentences("そうですね。行きましょう")).toEqual(["そうですね。", "行きましょう"]);
  });

  it("splits Korean at ! or ? followed directly by Hangul", () => {
    expect(splitSentences("정말?그래!좋아.")).toEqual(["정말?", "그래!", "좋아."]);
  });

  it("splits at ！ and ？ followed directly by Hangul", () => {
    expect(splitSentences("진짜！알겠어？응")).toEqual(["진짜！", "알겠어？", "응"]);
  });

  it("does not split at a Latin . followed directly by Hangul", () => {
    expect(splitSentences("버전.2에서 바뀌었어요. 끝.")).toEqual(["버전.2에서 바뀌었어요.", "끝."]);
  });

  it("does not split a full-width decimal at ．", () => {
    expect(splitSentences("第１．２章です．次へ")).toEqual(["第１．２章です．", "次へ"]);
  });

  it("keeps the ideographic space out of the sentences", () => {
    expect(splitSentences("はい。\u3000いいえ。")).toEqual(["はい。", "いいえ。"]);
  });
});

describe("splitSentences: quotes and brackets", () => {
  it("keeps a Korean closing quote with the sentence it closes", () => {
    expect(splitSentences('그가 말했다. "정말이야?" 나는 놀랐다.')).toEqual(["그가 말했다.", '"정말이야?"', "나는 놀랐다."]);
  });

  it("handles curly quotes, single quotes and brackets", () => {
    expect(splitSentences("“정말?” ‘그래.’ (웃음.) [끝!] 다음")).toEqual(["“정말?”", "‘그래.’", "(웃음.)", "[끝!]", "다음"]);
    expect(splitSentences("She said 'no.' Then left.")).toEqual(["She said 'no.'", "Then left."]);
  });

  it("handles Japanese 「」 and 『』: a new quote or Han after the closer starts a sentence", () => {
    expect(splitSentences("「はい。」「いいえ。」『本当？』彼は笑った。")).toEqual(["「はい。」", "「いいえ。」", "『本当？』", "彼は笑った。"]);
  });

  it("keeps a quotative particle after the closing quote in the same sentence", () => {
    expect(splitSentences('"정말이야?"라고 그가 물었다. 「本当？」と聞いた。')).toEqual(['"정말이야?"라고 그가 물었다.', "「本当？」と聞いた。"]);
  });

  it("handles Chinese quotes and book-title marks", () => {
    expect(splitSentences("他说：“我们走吧。”然后离开了。我读了《红楼梦》。")).toEqual(["他说：“我们走吧。”", "然后离开了。", "我读了《红楼梦》。"]);
  });

  it("handles full-width brackets and angle quotes", () => {
    expect(splitSentences("（笑。）【注意！】 《끝？》 〈네.〉 다음")).toEqual(["（笑。）", "【注意！】", "《끝？》", "〈네.〉", "다음"]);
  });

  it("keeps a narration's closing asterisk with the narration", () => {
    expect(splitSentences("*그녀가 웃는다.* 안녕!")).toEqual(["*그녀가 웃는다.*", "안녕!"]);
  });
});

describe("splitSentences: newlines and whitespace", () => {
  it("ends a line without punctuation at the newline", () => {
    expect(splitSentences("첫 줄\n둘째 줄\n\n셋째 줄이에요. 넷째")).toEqual(["첫 줄", "둘째 줄", "셋째 줄이에요.", "넷째"]);
  });

  it("treats CRLF as one line break", () => {
    expect(splitSentences("Line one\r\nLine two\r\n")).toEqual(["Line one", "Line two"]);
  });

  it("collapses spaces inside a sentence and never returns empty pieces", () => {
    expect(splitSentences("  안녕   하세요.  \n\n \t \n  또   봐요 ")).toEqual(["안녕 하세요.", "또 봐요"]);
    expect(splitSentences("")).toEqual([]);
    expect(splitSentences(" \n\t\u3000 ")).toEqual([]);
  });
});

describe("splitSentences: very long sentences", () => {
  it("exports the limit", () => {
    expect(MAX_SENTENCE_CHARS).toBe(200);
  });

  it("cuts a Korean sentence without punctuation at its last space before the limit", () => {
    const words = Array.from({ length: 60 }, () => "가나다라");
    const sentences = splitSentences(words.join(" "));
    expect(sentences).toEqual([words.slice(0, 40).join(" "), words.slice(40).join(" ")]);
    expect(sentences[0]).toHaveLength(199);
  });

  it("cuts after a comma when that comes later than any space", () => {
    const text = `${"가".repeat(10)} ${"나".repeat(139)},${"다".repeat(100)}`;
    expect(splitSentences(text)).toEqual([`${"가".repeat(10)} ${"나".repeat(139)},`, "다".repeat(100)]);
  });

  it("cuts after 、 and ， too", () => {
    expect(splitSentences(`${"あ".repeat(150)}、${"い".repeat(100)}`)).toEqual([`${"あ".repeat(150)}、`, "い".repeat(100)]);
    expect(splitSentences(`${"我".repeat(150)}，${"你".repeat(100)}`)).toEqual([`${"我".repeat(150)}，`, "你".repeat(100)]);
  });

  it("cuts at the limit when there is no space or comma", () => {
    expect(splitSentences("가".repeat(450))).toEqual(["가".repeat(200), "가".repeat(200), "가".repeat(50)]);
  });

  it("does not cut a sentence of exactly the limit", () => {
    expect(splitSentences(`${"가".repeat(199)}. 다음.`)).toEqual([`${"가".repeat(199)}.`, "다음."]);
    expect(splitSentences(`${"가".repeat(200)}\n다음`)).toEqual(["가".repeat(200), "다음"]);
  });

  it("gives the first part while streaming, before the sentence ends", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("가".repeat(200))).toEqual([]);
    expect(splitter.push("가")).toEqual(["가".repeat(200)]);
    expect(splitter.flush()).toEqual(["가"]);
  });

  it("lets the ending punctuation run a little past the limit", () => {
    expect(splitSentences(`${"가".repeat(199)}?!」 끝`)).toEqual([`${"가".repeat(199)}?!」`, "끝"]);
    expect(splitSentences(`${"가".repeat(195)}${"!".repeat(20)} 끝`)).toEqual([`${"가".repeat(195)}${"!".repeat(5)}`, "!".repeat(15), "끝"]);
  });

  it("never splits a surrogate pair at the limit", () => {
    const text = `${"가".repeat(199)}😀${"나".repeat(10)}`;
    expect(splitSentences(text)).toEqual(["가".repeat(199), `😀${"나".repeat(10)}`]);
  });
});

describe("SentenceSplitter", () => {
  it("gives each sentence once its end is certain", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("안녕하세요")).toEqual([]);
    expect(splitter.push(".")).toEqual([]);
    expect(splitter.push(" 반가")).toEqual(["안녕하세요."]);
    expect(splitter.push("워요!")).toEqual([]);
    expect(splitter.push("\n")).toEqual(["반가워요!"]);
    expect(splitter.flush()).toEqual([]);
  });

  it("waits after a full-width stop in case a closing quote follows", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("好的。")).toEqual([]);
    expect(splitter.push("我")).toEqual(["好的。"]);
    expect(splitter.push("们走吧！」")).toEqual([]);
    expect(splitter.flush()).toEqual(["我们走吧！」"]);
  });

  it("waits after . in case it is the start of ...", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("음.")).toEqual([]);
    expect(splitter.push(".")).toEqual([]);
    expect(splitter.push(". 글")).toEqual(["음..."]);
    expect(splitter.push("쎄요.")).toEqual([]);
    expect(splitter.flush()).toEqual(["글쎄요."]);
  });

  it("gives a line as soon as its newline arrives", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("*고개를 끄덕인다*\n그렇")).toEqual(["*고개를 끄덕인다*"]);
    expect(splitter.flush()).toEqual(["그렇"]);
  });

  it("is empty after flush and can be used again", () => {
    const splitter = new SentenceSplitter();
    splitter.push("첫 번째");
    expect(splitter.flush()).toEqual(["첫 번째"]);
    expect(splitter.flush()).toEqual([]);
    expect(splitter.push("두 번째. 세")).toEqual(["두 번째."]);
    expect(splitter.flush()).toEqual(["세"]);
  });

  it("gives nothing for whitespace", () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push("  \n\n ")).toEqual([]);
    expect(splitter.flush()).toEqual([]);
  });
});

describe("SentenceSplitter matches splitSentences however the text is chunked", () => {
  const texts = [
    '그가 말했다. "정말이야?" 나는 놀랐다.',
    "음... 글쎄요…… 그건 좀?! 아니, 괜찮아요!!",
    "好的。我们走吧！“真的吗？”他问。「はい。」『本当？』と聞いた。そうですね。行きましょう",
    "정말?그래!좋아。다음！끝？「네.」라고 했다.",
    "Pi is 3.14. Mr. Kim said e.g. this, i.e.x that... wait...what?! OK.\n1. item\n2. item",
    "*고개를 끄덕이며* 그렇군요.\n\n**중요한** 건 이거야 ) ] 》 ’\r\n마지막 줄",
    "第１．２章です．次へ。（笑。）【注意！】 《끝？》",
    "이모지도 있어요?😀 그리고 𠀀자도요!𠀀 끝.",
    `${Array.from({ length: 70 }, (_, i) => `단어${i}`).join(" ")}. 그리고 ${"가".repeat(230)},${"나".repeat(20)}`,
    `${"あ".repeat(198)}。」${"い".repeat(5)}... ${"う".repeat(199)}?! 끝`,
    `${"가".repeat(195)}!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!? 나`,
  ];

  for (const text of texts) {
    const expected = splitSentences(text);

    it(`two chunks at every split point: ${JSON.stringify(text.slice(0, 30))}`, () => {
      for (let at = 0; at <= text.length; at++) {
        expect(stream([text.slice(0, at), text.slice(at)]), `split at ${at}`).toEqual(expected);
      }
    });

    it(`one UTF-16 unit and one code point at a time: ${JSON.stringify(text.slice(0, 30))}`, () => {
      expect(stream(text.split(""))).toEqual(expected);
      expect(stream(Array.from(text))).toEqual(expected);
    });

    it(`random chunks: ${JSON.stringify(text.slice(0, 30))}`, () => {
      let seed = 42;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      for (let round = 0; round < 20; round++) {
        const chunks: string[] = [];
        for (let at = 0; at < text.length; ) {
          const size = 1 + Math.floor(random() * 12);
          chunks.push(text.slice(at, at + size));
          at += size;
        }
        expect(stream(chunks)).toEqual(expected);
      }
    });
  }

  it("pins the sentences of the mixed texts", () => {
    expect(splitSentences(texts[3] ?? "")).toEqual(["정말?", "그래!", "좋아。", "다음！", "끝？", "「네.」라고 했다."]);
    expect(splitSentences(texts[7] ?? "")).toEqual(["이모지도 있어요?😀 그리고 𠀀자도요!", "𠀀 끝."]);
    expect(splitSentences(texts[9] ?? "")).toEqual([
      "あ".repeat(198) + "。」",
      `${"い".repeat(5)}...`,
      `${"う".repeat(199)}?!`,
      "끝",
    ]);
  });
});

describe("spokenText", () => {
  it("drops role-play narration between single asterisks", () => {
    expect(spokenText("*고개를 끄덕이며* 그렇군요")).toBe("그렇군요");
    expect(spokenText('"안녕," *손을 흔든다* "잘 지냈어?"')).toBe('"안녕," "잘 지냈어?"');
    expect(spokenText("좋아 *웃음*.")).toBe("좋아.");
    expect(spokenText("*She smiles.* Nice to meet you. *bows*")).toBe("Nice to meet you.");
    expect(spokenText("*微笑む* こんにちは。*点头* 你好。")).toBe("こんにちは。 你好。");
  });

  it("keeps the narration's words, without asterisks, when asked", () => {
    expect(spokenText("*고개를 끄덕이며* 그렇군요", { skipNarration: false })).toBe("고개를 끄덕이며 그렇군요");
  });

  it("drops a line that was only narration", () => {
    expect(spokenText("*한숨을 쉰다*\n그래요.\n*창밖을 본다*")).toBe("그래요.");
  });

  it("does not let narration cross a line break", () => {
    expect(spokenText("별표 * 하나\n그리고 * 또 하나")).toBe("별표 하나\n그리고 또 하나");
  });

  it("drops the narration half of a sentence cut inside it by the splitter", () => {
    const pieces = splitSentences("*그녀는 웃었다. 그리고 고개를 끄덕였다.* 안녕! *손을 흔든다");
    expect(pieces).toEqual(["*그녀는 웃었다.", "그리고 고개를 끄덕였다.*", "안녕!", "*손을 흔든다"]);
    expect(pieces.map((piece) => spokenText(piece))).toEqual(["", "", "안녕!", ""]);
    expect(pieces.map((piece) => spokenText(piece, { skipNarration: false }))).toEqual([
      "그녀는 웃었다.",
      "그리고 고개를 끄덕였다.",
      "안녕!",
      "손을 흔든다",
    ]);
  });

  it("keeps bold words and drops the markers", () => {
    expect(spokenText("**중요한** 건 *웃으며* 이거야.")).toBe("중요한 건 이거야.");
    expect(spokenText("This is __really__ _nice_ and snake_case stays.")).toBe("This is really nice and snake_case stays.");
    expect(spokenText("**이건 중요해.")).toBe("이건 중요해.");
  });

  it("drops code blocks entirely and keeps inline code's text", () => {
    expect(spokenText("설치 방법:\n```bash\nnpm install *foo*\n```\n`npm i`를 실행하세요.")).toBe("설치 방법:\nnpm i를 실행하세요.");
    expect(spokenText("Run `a*b*c` now.")).toBe("Run a*b*c now.");
    expect(spokenText("~~~\ncode\n~~~\n끝")).toBe("끝");
    expect(spokenText("앞\n```\n닫히지 않은 코드")).toBe("앞");
  });

  it("keeps link labels and drops URLs", () => {
    expect(spokenText("[문서](https://example.com/docs_(v2) \"제목\")를 보세요.")).toBe("문서를 보세요.");
    expect(spokenText("자세한 건 https://example.com/a?b=1 에서 확인하세요.")).toBe("자세한 건 에서 확인하세요.");
    expect(spokenText("참고: https://example.com/x.")).toBe("참고:");
    expect(spokenText("링크 <https://example.com> 와 www.example.com 끝")).toBe("링크 와 끝");
    expect(spokenText("![스크린샷](shot.png) 이걸 보세요")).toBe("이걸 보세요");
  });

  it("drops headings, list bullets, blockquotes and rules", () => {
    expect(spokenText("# 제목 #\n## 소제목\n- 항목 하나\n* 항목 둘\n+ 항목 셋\n1. 첫째\n2) 둘째\n- [x] 완료\n> 인용문\n> > 중첩\n---\n***\n끝")).toBe(
      "제목\n소제목\n항목 하나\n항목 둘\n항목 셋\n첫째\n둘째\n완료\n인용문\n중첩\n끝",
    );
  });

  it("keeps a heading-like # that is not a heading", () => {
    expect(spokenText("#해시태그 그리고 C# 언어")).toBe("#해시태그 그리고 C# 언어");
  });

  it("collapses whitespace, keeps single line breaks and trims", () => {
    expect(spokenText("  안녕   하세요.\t반가워요  \n\n\n  또 봐요  ")).toBe("안녕 하세요. 반가워요\n또 봐요");
    expect(spokenText("")).toBe("");
    expect(spokenText("   \n\t ")).toBe("");
  });

  it("drops lines with nothing to say", () => {
    expect(spokenText("...\n😀\n음... 그래요.")).toBe("음... 그래요.");
  });

  it("feeds splitSentences cleanly", () => {
    const reply = "*창밖을 바라보며* 음... 비가 오네요.\n\n**우산** 챙기셨어요? [날씨](https://weather.example) 확인해 보세요!";
    expect(splitSentences(spokenText(reply))).toEqual(["음...", "비가 오네요.", "우산 챙기셨어요?", "날씨 확인해 보세요!"]);
  });
});
