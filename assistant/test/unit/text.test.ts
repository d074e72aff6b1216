import assert from "node:assert/strict";
import { chunkText, sentences, titleOf } from "../../src/retrieval/chunk.js";
import { detectLanguage, estimateTokens, indexTerms, mentionCounter, queryTerms } from "../../src/retrieval/text.js";

describe("text analysis", () => {
  it("segments Chinese into words, not sentences or single characters", () => {
    const terms = indexTerms("知识库检索支持中文分词").split(" ");
    assert.ok(terms.includes("知识"), terms.join("|"));
    assert.ok(terms.includes("检索"), terms.join("|"));
    assert.ok(terms.length > 2 && terms.length < 11, terms.join("|"));
  });

  it("lower-cases English and drops punctuation", () => {
    assert.equal(indexTerms("Running the VPN, quickly!"), "running the vpn quickly");
  });

  it("keeps content words of a query and drops function words", () => {
    assert.deepEqual(queryTerms("What is the VPN server?"), ["vpn", "server"]);
    assert.deepEqual(queryTerms("请问年假有几天？"), ["年假", "几天"]);
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

  it("counts the query terms a sentence mentions: Han as substrings, Latin in any inflection that stems alike", () => {
    const mentions = mentionCounter(["approves", "approved", "vpn", "年假", "报销"]);
    assert.equal(mentions("The manager approving it uses the VPN."), 3);
    assert.equal(mentions("请在系统中申请年假。"), 1);
    assert.equal(mentions("Approval of 报销 is separate."), 1);
    assert.equal(mentions("nothing here"), 0);
  });
});

describe("chunking", () => {
  it("splits sentences at Chinese and Latin punctuation", () => {
    assert.deepEqual(sentences("第一句。第二句！第三句？第四句；Fifth one. Sixth v1.2 stays"), [
      "第一句。",
      "第二句！",
      "第三句？",
      "第四句；",
      "Fifth one.",
      "Sixth v1.2 stays",
    ]);
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
