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
    // IPv6 forms that carry an IPv4 address are judged by it too.
    ["::127.0.0.1", "private", undefined],
    ["::7f00:1", "private", undefined],
    ["::10.1.2.3", "private", undefined],
    ["::ffff:0:127.0.0.1", "private", undefined],
    ["::ffff:0:7f00:1", "private", undefined],
    ["0:0:0:0:ffff:0:c0a8:101", "private", undefined],
    ["::169.254.169.254", "metadata", "metadata"],
    ["::ffff:0:169.254.169.254", "metadata", "metadata"],
    ["2001:db8::5efe:10.0.0.1", "private", undefined],
    ["fe80::200:5efe:8.8.8.8", "private", undefined],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "not_a_host", "not_a_host"],
    ["::8.8.8.8", undefined, undefined],
    ["::ffff:0:8.8.8.8", undefined, undefined],
    ["2606:4700::5efe:8.8.8.8", undefined, undefined],
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
