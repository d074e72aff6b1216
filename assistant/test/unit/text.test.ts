import assert from "node:assert/strict";
import { chunkText, sentences, titleOf } from "../../src/retrieval/chunk.js";
import { contentWords, detectLanguage, estimateTokens, foldText, indexTerms, queryTerms, termMatcher } from "../../src/retrieval/text.js";

describe("text analysis", () => {
  it("segments Chinese into words, not sentences or single characters", () => {
    const words = contentWords("知识库检索支持中文分词");
    assert.ok(words.includes("知识"), words.join("|"));
    assert.ok(words.includes("检索"), words.join("|"));
    assert.ok(words.length > 2 && words.length < 11, words.join("|"));
  });

  it("lower-cases English and drops punctuation", () => {
    assert.equal(indexTerms("Running the VPN, quickly!"), "running the vpn quickly");
  });

  it("keeps content words of a query and drops function words", () => {
    assert.deepEqual(queryTerms("What is the VPN server?"), ["vpn", "server"]);
    // Words first, then the characters and pairs not already there; 请, 有 and 几天 carry no topic.
    assert.deepEqual(queryTerms("请问年假有几天？"), ["年假", "问", "问年", "年", "假", "天"]);
  });

  it("asks for a function word written in capitals as a phrase with the word it qualifies, or the word before it at the end", () => {
    assert.deepEqual(queryTerms("What match do US employees get?"), ["match", "employees", "us employees"]);
    assert.deepEqual(queryTerms("Who approves IT purchases?"), ["approves", "purchases", "it purchases"]);
    assert.deepEqual(queryTerms("How do I contact IT?"), ["contact", "contact it"]);
    assert.deepEqual(queryTerms("IT 部门的电话是多少？").slice(0, 3), ["部门", "电话", "it 部门"]);
    // Not the pronoun, not English shouted, not a capital beside a function word only.
    assert.deepEqual(queryTerms("Is it on?"), []);
    assert.deepEqual(queryTerms("HOW DO I RESET MY PASSWORD"), ["reset", "password"]);
    assert.deepEqual(queryTerms("Where is IT?"), []);
  });

  it("detects the language of the message", () => {
    assert.equal(detectLanguage("年假有几天？"), "zh");
    assert.equal(detectLanguage("How many vacation days do I get?"), "en");
    assert.equal(detectLanguage("VPN 怎么连接"), "zh");
    assert.equal(detectLanguage("12345"), "en");
  });

  it("estimates tokens with Han characters counting one each, in and beyond the common block", () => {
    assert.equal(estimateTokens("你好世界"), 4);
    assert.equal(estimateTokens("abcdefgh"), 2);
    assert.equal(estimateTokens("〇々中"), 3);
    // Fullwidth and CJK punctuation is not Han: it counts with the other text.
    assert.equal(estimateTokens("年假，怎么申请？《员工手册》"), 10 + 1);
    assert.equal(estimateTokens("𠀀"), 2);
  });

  it("tells which query terms a sentence mentions: Han as substrings, Latin in any form with the same Porter stem", () => {
    const matcher = termMatcher(["approves", "approved", "vpn", "年假", "报销", "contribute", "carry"]);
    const mentioned = (text: string) => [...matcher(foldText(text))].sort();
    assert.deepEqual(mentioned("The manager approving it uses the ＶＰＮ."), [0, 1, 2]);
    assert.deepEqual(mentioned("请在系统中申请年假。"), [3]);
    // As the index stems: approval is approv too, and so are contributions and carries (carri) alike.
    assert.deepEqual(mentioned("Approval of 报销 is separate."), [0, 1, 4]);
    assert.deepEqual(mentioned("Employee contributions carried over"), [5, 6]);
    assert.deepEqual(mentioned("approximately, contributor, carrying-on"), [6]);
    assert.deepEqual(mentioned("nothing here"), []);
  });

  it("indexes and asks for Han characters and character pairs beside the words, without function characters", () => {
    const indexed = indexTerms("未休完的年假可以结转").split(" ");
    for (const term of ["年假", "假", "休", "年假", "结转", "可以"]) assert.ok(indexed.includes(term), `${term} in ${indexed.join("|")}`);
    assert.ok(!indexed.includes("的年") && !indexed.includes("完的"), indexed.join("|"));
    const asked = queryTerms("去年没休完的假还能用吗");
    assert.ok(asked.includes("假") && asked.includes("休"), asked.join("|"));
    assert.ok(!asked.includes("吗") && !asked.includes("的"), asked.join("|"));
  });
});

describe("chunking", () => {
  it("splits sentences at Chinese and Latin punctuation, not after abbreviations or at a Latin semicolon", () => {
    assert.deepEqual(sentences("第一句。第二句！第三句？第四句；Fifth one. Sixth v1.2 stays, e.g. here; and on. Last"), [
      "第一句。",
      "第二句！",
      "第三句？",
      "第四句；",
      "Fifth one.",
      "Sixth v1.2 stays, e.g. here; and on.",
      "Last",
    ]);
  });

  it("joins hard-wrapped lines into the sentences they wrap, but keeps short lines apart", () => {
    const text = [
      "The server listens on port 8080 by default. Set the PORT environment",
      "variable to change it; the server must be restarted for the change to",
      "take effect.",
      "",
      "Port: 8080",
      "Host: db.internal",
      "",
      "年假制度规定，员工入职满一年后享有五天带薪年假，未休完的年假可以",
      "结转到次年三月底。",
    ].join("\n");
    const [chunk] = chunkText(text, 800);
    assert.deepEqual(sentences(chunk?.text ?? ""), [
      "The server listens on port 8080 by default.",
      "Set the PORT environment variable to change it; the server must be restarted for the change to take effect.",
      "Port: 8080",
      "Host: db.internal",
      "年假制度规定，员工入职满一年后享有五天带薪年假，未休完的年假可以结转到次年三月底。",
    ]);
  });

  it("keeps list items, code blocks and setext headings whole", () => {
    const text = [
      "Install",
      "=======",
      "",
      "1. Download the archive from the releases page and unpack it into",
      "   /opt/foo. Then check its checksum.",
      "2. Run the installer.",
      "",
      "```sh",
      "npm install -g foo",
      "",
      "foo --port 9090",
      "```",
    ].join("\n");
    const chunks = chunkText(text, 800);
    assert.deepEqual(chunks.map((chunk) => chunk.heading), ["Install"]);
    assert.deepEqual(sentences(chunks[0]?.text ?? ""), [
      "1. Download the archive from the releases page and unpack it into /opt/foo. Then check its checksum.",
      "2. Run the installer.",
      "```sh\nnpm install -g foo\n\nfoo --port 9090\n```",
    ]);
    // Cut to fit, a code block is fenced again in every piece.
    for (const chunk of chunkText(text, 40).slice(-2)) assert.match(chunk.text, /^```sh\n[^`]+\n```$/);
  });

  it("writes each table row with its header, from Markdown pipes and from tab-separated columns", () => {
    const markdown = "| Plan | Requests per minute | Price |\n| --- | ---: | --- |\n| Free | 60 | |\n| Pro | 600 | 20 USD |";
    const rows = ["| Plan: Free | Requests per minute: 60 |", "| Plan: Pro | Requests per minute: 600 | Price: 20 USD |"];
    assert.deepEqual(sentences(chunkText(markdown, 800)[0]?.text ?? ""), rows);
    assert.deepEqual(sentences(chunkText("Plan\tRequests per minute\tPrice\nFree\t60\t\nPro\t600\t20 USD", 800)[0]?.text ?? ""), rows);
    // Cut between rows, every piece still names its columns.
    assert.deepEqual(chunkText(markdown, 60).map((chunk) => chunk.text), rows);
  });

  it("starts a chunk at every heading and packs small paragraphs", () => {
    const chunks = chunkText("# A\n\npara one\n\npara two\n\n## B\n\npara three", 100);
    assert.deepEqual(chunks, [
      { heading: "A", text: "para one\n\npara two" },
      { heading: "B", text: "para three" },
    ]);
  });

  it("cuts long paragraphs at sentence ends within the budget", () => {
    const paragraph = "这是一个很长的句子，用来测试分块。".repeat(20);
    const chunks = chunkText(paragraph, 100);
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) {
      assert.ok(chunk.text.length <= 100, `${chunk.text.length}`);
      assert.ok(chunk.text.endsWith("。"), chunk.text);
    }
    assert.equal(chunks.map((chunk) => chunk.text.replaceAll(" ", "")).join(""), paragraph);
  });

  it("with an overlap, starts a section's next chunk with the last whole sentences that fit, never across headings", () => {
    const section = ["First point here.", "Second point follows.", "第三点在这里。", "Fourth point now.", "Fifth and last."].join("\n\n");
    const text = `# A\n\n${section}\n\n# B\n\nAnother section.`;
    const chunks = chunkText(text, 60, 30);
    assert.deepEqual(chunks, [
      { heading: "A", text: "First point here.\n\nSecond point follows.\n\n第三点在这里。" },
      { heading: "A", text: "Second point follows. 第三点在这里。\n\nFourth point now." },
      { heading: "A", text: "第三点在这里。 Fourth point now.\n\nFifth and last." },
      { heading: "B", text: "Another section." },
    ]);
    for (const chunk of chunks) assert.ok(chunk.text.length <= 60, `${chunk.text.length}`);
    assert.deepEqual(chunkText(text, 60, 0).map((chunk) => chunk.text), [
      "First point here.\n\nSecond point follows.\n\n第三点在这里。",
      "Fourth point now.\n\nFifth and last.",
      "Another section.",
    ]);
    // A tail sentence longer than the overlap is not cut: no overlap then.
    assert.deepEqual(chunkText("A sentence that is far too long to carry.\n\nNext.", 45, 10).map((chunk) => chunk.text), [
      "A sentence that is far too long to carry.",
      "Next.",
    ]);
  });

  it("takes the title from the first heading, else the file name", () => {
    assert.equal(titleOf("intro\n# Leave policy\ntext", "hr/leave.md"), "Leave policy");
    assert.equal(titleOf("no heading", "hr/leave.md"), "hr/leave");
  });
});
