import assert from "node:assert/strict";
import { createMasker, luhn, validCnResidentId } from "../../src/masking/mask.js";

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
