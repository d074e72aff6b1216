import assert from "node:assert/strict";
import { parseCommand } from "../../src/dialog/skill-turn.js";
import { refusedAddress } from "../../src/skills/address-policy.js";

describe("skill address policy", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    // address, refusal by default, refusal with allowPrivateNetworks
    ["93.184.215.14", undefined, undefined],
    ["2606:4700::6810:85e5", undefined, undefined],
    ["127.0.0.1", "private", undefined],
    ["127.255.255.254", "private", undefined],
    ["10.96.0.10", "private", undefined],
    ["172.16.0.1", "private", undefined],
    ["172.32.0.1", undefined, undefined],
    ["192.168.1.1", "private", undefined],
    ["100.64.0.1", "private", undefined],
    ["169.254.1.1", "private", undefined],
    ["::1", "private", undefined],
    ["fd12:3456::1", "private", undefined],
    ["fe80::1", "private", undefined],
    ["::ffff:127.0.0.1", "private", undefined],
    ["::ffff:7f00:1", "private", undefined],
    ["169.254.169.254", "metadata", "metadata"],
    ["::ffff:169.254.169.254", "metadata", "metadata"],
    ["169.254.170.2", "metadata", "metadata"],
    ["100.100.100.200", "metadata", "metadata"],
    ["fd00:ec2::254", "metadata", "metadata"],
    ["0.0.0.0", "not_a_host", "not_a_host"],
    ["::", "not_a_host", "not_a_host"],
    ["224.0.0.1", "not_a_host", "not_a_host"],
    ["255.255.255.255", "not_a_host", "not_a_host"],
    ["ff02::1", "not_a_host", "not_a_host"],
    ["64:ff9b::a9fe:a9fe", "not_a_host", "not_a_host"],
    ["2002:a9fe:a9fe::1", "not_a_host", "not_a_host"],
  ];
  for (const [address, strict, open] of cases) {
    it(`${address}: ${strict ?? "allowed"}, with private networks ${open ?? "allowed"}`, () => {
      assert.equal(refusedAddress(address, false), strict);
      assert.equal(refusedAddress(address, true), open);
    });
  }
});

describe("skill commands", () => {
  const isSkill = (name: string) => ["lookup-order", "create-return"].includes(name);

  it("reads /name with JSON arguments, or none", () => {
    assert.deepEqual(parseCommand('/lookup-order {"orderId": "A-1"}', isSkill), { name: "lookup-order", confirmed: false, argumentsText: '{"orderId": "A-1"}' });
    assert.deepEqual(parseCommand("  /lookup-order  ", isSkill), { name: "lookup-order", confirmed: false, argumentsText: "" });
    assert.deepEqual(parseCommand('/lookup-order\n{\n"orderId": "A-1"\n}', isSkill), { name: "lookup-order", confirmed: false, argumentsText: '{\n"orderId": "A-1"\n}' });
  });

  it("reads /confirm name, also for a name that is no skill (the reply says so)", () => {
    assert.deepEqual(parseCommand('/confirm create-return {"orderId": "A-1"}', isSkill), { name: "create-return", confirmed: true, argumentsText: '{"orderId": "A-1"}' });
    assert.equal(parseCommand("/confirm nothing", isSkill)?.name, "nothing");
  });

  for (const message of ["/etc/hosts 是什么？", "/unknown {}", "lookup-order {}", "please /lookup-order {}", "/confirm", "/", "/lookup-order{}"]) {
    it(`leaves "${message}" an ordinary message`, () => {
      assert.equal(parseCommand(message, isSkill), undefined);
    });
  }
});
