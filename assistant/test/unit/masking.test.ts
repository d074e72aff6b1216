import assert from "node:assert/strict";
import { createMasker, DETECTORS, luhn, validCnResidentId } from "../../src/masking/mask.js";

const rules = [{ name: "employee", pattern: "EMP-\\d{6}", flags: "" }];
const mask = createMasker("mask", rules);
const redact = createMasker("redact", rules);

describe("masking", () => {
  const cases: { name: string; input: string; masked: string; redacted: string }[] = [
    { name: "email (en)", input: "mail zhang.san@example.com today", masked: "mail z***@example.com today", redacted: "mail [EMAIL] today" },
    { name: "email (zh)", input: "邮箱是li@corp.example.cn，请回复", masked: "邮箱是l***@corp.example.cn，请回复", redacted: "邮箱是[EMAIL]，请回复" },
    { name: "CN mobile inside Chinese text", input: "手机13812345678谢谢", masked: "手机138****5678谢谢", redacted: "手机[PHONE]谢谢" },
    { name: "CN mobile with separators", input: "call 139-1234-5678", masked: "call 139-****-5678", redacted: "call [PHONE]" },
    { name: "E.164 compact", input: "phone +14155552671.", masked: "phone +141****2671.", redacted: "phone [PHONE]." },
    { name: "E.164 with spaces", input: "电话 +86 138 1234 5678", masked: "电话 +86 1** **** 5678", redacted: "电话 [PHONE]" },
    { name: "CN resident ID with valid checksum", input: "身份证号11010519491231002X。", masked: "身份证号110***********002X。", redacted: "身份证号[CN_ID]。" },
    { name: "bank card passing Luhn", input: "card 4111 1111 1111 1111 ok", masked: "card 411* **** **** 1111 ok", redacted: "card [BANK_CARD] ok" },
    { name: "IPv4", input: "服务器192.168.1.20宕机", masked: "服务器192.168.*.*宕机", redacted: "服务器[IP]宕机" },
    { name: "IPv6", input: "from 2001:db8::8a2e:370:7334 and fe80::1", masked: "from 2001:**** and fe80:****", redacted: "from [IP] and [IP]" },
    { name: "custom rule", input: "员工 EMP-123456 离职", masked: "员工 ********** 离职", redacted: "员工 [EMPLOYEE] 离职" },
  ];
  for (const { name, input, masked, redacted } of cases) {
    it(`masks ${name}`, () => {
      assert.equal(mask(input), masked);
      assert.equal(redact(input), redacted);
    });
  }

  const untouched: { name: string; input: string }[] = [
    { name: "an 18-digit number with a wrong ID checksum", input: "编号110105194912310021" },
    { name: "a 19-digit number failing Luhn", input: "卡号6222021234567890123" },
    { name: "a 16-digit order number failing Luhn", input: "order 2023112812345670" },
    { name: "a landline number", input: "tel 010-12345678" },
    { name: "a mobile-looking prefix inside a longer number", input: "price 13800000000000 yuan" },
    { name: "a version string and an out-of-range dotted quad", input: "v1.2.3 and 999.1.1.1" },
    { name: "a clock time", input: "会议时间12:30:45开始" },
    { name: "a MAC address", input: "mac 00:1a:2b:3c:4d:5e" },
    { name: "an @-mention without a domain", input: "ping @zhangsan 在群里" },
    { name: "plain Chinese prose", input: "员工入职满一年后享有5天带薪年假。" },
  ];
  for (const { name, input } of untouched) {
    it(`leaves ${name} alone`, () => {
      assert.equal(mask(input), input);
      assert.equal(redact(input), input);
    });
  }

  it("validates the CN resident ID checksum and date fields", () => {
    assert.equal(validCnResidentId("11010519491231002X"), true);
    assert.equal(validCnResidentId("11010519491231002x"), true);
    assert.equal(validCnResidentId("110105194912310021"), false);
    assert.equal(validCnResidentId("110105194913310029"), false);
  });

  it("implements Luhn", () => {
    assert.equal(luhn("4111111111111111"), true);
    assert.equal(luhn("79927398713"), true);
    assert.equal(luhn("79927398710"), false);
  });

  it("masks several kinds in one text", () => {
    assert.equal(redact("张三 13812345678 zs@example.com 10.0.0.1"), "张三 [PHONE] [EMAIL] [IP]");
  });
});

describe("masking text written to evade it", () => {
  const cases: { name: string; input: string; masked: string }[] = [
    { name: "full-width digits", input: "手机１３８１２３４５６７８谢谢", masked: "手机138****5678谢谢" },
    { name: "zero-width spaces inside a number", input: "call 138\u200b1234\u200b5678 now", masked: "call 138****5678 now" },
    { name: "a soft hyphen and a word joiner inside a card number", input: "card 4111\u00ad1111\u20601111 1111", masked: "card 411********* 1111" },
    { name: "a full-width e-mail address", input: "写信给ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ吧", masked: "写信给z***@example.com吧" },
    { name: "an IDN e-mail address", input: "mail josé.müller@bücher.de today", masked: "mail j***@bücher.de today" },
    { name: "an address on a Chinese domain", input: "联系zhang@例子.中国，谢谢", masked: "联系z***@例子.中国，谢谢" },
    { name: "a full-width resident ID", input: "身份证１１０１０５１９４９１２３１００２Ｘ。", masked: "身份证110***********002X。" },
  ];
  for (const { name, input, masked } of cases) {
    it(`masks ${name}`, () => {
      assert.equal(mask(input), masked);
    });
  }

  it("keeps the rest of the text as written (full-width punctuation, invisible characters outside a value)", () => {
    const text = "年假：请提前申请（至少３天）。\u200b谢谢！";
    assert.equal(mask(text), text);
    assert.equal(mask(`${text}13812345678`), `${text}138****5678`);
  });
});

/**
 * The fastest of a few timings of `work`, each repeated until it has taken a few milliseconds, so a
 * short run is not all timer resolution.
 */
function timed(work: () => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 5; round += 1) {
    let runs = 0;
    const started = performance.now();
    do {
      work();
      runs += 1;
    } while (performance.now() - started < 3);
    best = Math.min(best, (performance.now() - started) / runs);
  }
  return best;
}

describe("masking time grows linearly with the text", function () {
  this.timeout(120000);
  /** Runs of what a detector's pattern starts on or repeats, with nothing that completes a match. */
  const units = ["a", "1", "1 ", "1-", "1.", ".", ":", "a:", "1:", "@", "a@", "a@a.", "a@a", "+1", "+", "-", "x1", "é", "１", "1\u200b", "年", "年，", "a.b@", "@a-", "1.1.1.1."];
  const small = 8192;
  const large = small * 8;
  /**
   * A linear detector takes about 8 times as long on 8 times the text, a quadratic one 64 times (the
   * old EMAIL pattern: 70); the margin between is for a garbage collection in the middle of a timing.
   */
  const maxGrowth = 32;
  const adversarial = (unit: string, length: number): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

  /** The units on which `work` took more than maxGrowth times as long for 8 times the text. */
  const tooSlow = (work: (text: string) => unknown): string[] =>
    units.flatMap((unit) => {
      const [short, long] = [adversarial(unit, small), adversarial(unit, large)];
      const growth = timed(() => work(long)) / timed(() => work(short));
      return growth > maxGrowth ? [`${JSON.stringify(unit)}: ${growth.toFixed(1)}x`] : [];
    });

  for (const detector of DETECTORS) {
    it(`${detector.name} detector`, () => {
      assert.deepEqual(
        tooSlow((text) => [...detector.find(text)].filter(({ value }) => detector.accept?.(value) ?? true)),
        [],
      );
    });
  }

  it("the whole masker, normalisation included", () => {
    assert.deepEqual(tooSlow(mask), []);
  });
});
