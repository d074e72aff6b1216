import { isIPv4, isIPv6 } from "node:net";

/**
 * Personal-data masking applied before anything is stored or logged. Each detector finds candidates
 * with a regular expression and, where the format has one, confirms them with a real check (the CN
 * resident-ID checksum, Luhn for cards, the platform's IP parsers) so ordinary numbers survive.
 */
export type MaskMode = "mask" | "redact";

export interface CustomRule {
  name: string;
  pattern: string;
  flags: string;
}

interface Detector {
  name: string;
  pattern: RegExp;
  accept?: (match: string) => boolean;
  mask: (match: string) => string;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

export function validCnResidentId(id: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(id)) return false;
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const sum = ID_WEIGHTS.reduce((total, weight, index) => total + weight * Number(id[index]), 0);
  return ID_CHECK[sum % 11] === id[17]?.toUpperCase();
}

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

const digitsOf = (text: string): string => text.replace(/\D/g, "");

/** Keeps the first three and last four digits, stars the digits between, leaves separators alone. */
function maskDigits(text: string): string {
  const total = digitsOf(text).length;
  let seen = 0;
  return text.replace(/\d/g, (digit) => {
    seen += 1;
    return seen <= 3 || seen > total - 4 ? digit : "*";
  });
}

const NOT_ALNUM_BEFORE = "(?<![0-9A-Za-z])";
const NOT_ALNUM_AFTER = "(?![0-9A-Za-z])";

const detectors: Detector[] = [
  {
    name: "EMAIL",
    pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    mask: (match) => {
      const at = match.indexOf("@");
      return `${match.slice(0, 1)}***${match.slice(at)}`;
    },
  },
  {
    name: "CN_ID",
    pattern: new RegExp(`${NOT_ALNUM_BEFORE}\\d{17}[\\dXx]${NOT_ALNUM_AFTER}`, "g"),
    accept: validCnResidentId,
    mask: (match) => `${match.slice(0, 3)}${"*".repeat(11)}${match.slice(14)}`,
  },
  {
    name: "PHONE",
    pattern: new RegExp(`\\+[1-9]\\d{0,3}(?:[ -]?\\d){6,14}${NOT_ALNUM_AFTER}`, "g"),
    accept: (match) => {
      const count = digitsOf(match).length;
      return count >= 8 && count <= 15;
    },
    mask: maskDigits,
  },
  {
    name: "BANK_CARD",
    pattern: new RegExp(`${NOT_ALNUM_BEFORE}\\d(?:[ -]?\\d){12,18}${NOT_ALNUM_AFTER}`, "g"),
    accept: (match) => luhn(digitsOf(match)),
    mask: maskDigits,
  },
  {
    name: "PHONE",
    pattern: new RegExp(`${NOT_ALNUM_BEFORE}1[3-9]\\d[ -]?\\d{4}[ -]?\\d{4}${NOT_ALNUM_AFTER}`, "g"),
    mask: maskDigits,
  },
  {
    name: "IP",
    pattern: /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Fa-f:])/g,
    accept: isIPv6,
    mask: (match) => `${match.split(":")[0] ?? ""}:****`,
  },
  {
    name: "IP",
    pattern: /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g,
    accept: isIPv4,
    mask: (match) => `${match.split(".").slice(0, 2).join(".")}.*.*`,
  },
];

export type Masker = (text: string) => string;

export function createMasker(mode: MaskMode, rules: readonly CustomRule[]): Masker {
  const all: Detector[] = [
    ...detectors,
    ...rules.map((rule) => ({
      name: rule.name.toUpperCase(),
      pattern: new RegExp(rule.pattern, `${rule.flags}g`),
      mask: (match: string) => "*".repeat(match.length),
    })),
  ];
  return (text) =>
    all.reduce(
      (current, detector) =>
        current.replace(detector.pattern, (match) => {
          if (match === "" || (detector.accept !== undefined && !detector.accept(match))) return match;
          return mode === "redact" ? `[${detector.name}]` : detector.mask(match);
        }),
      text,
    );
}

/**
 * What of a text may leave the service, for the model or the embeddings endpoint: all of it when
 * `privacy.modelSeesOriginal` allows, else its masked form.
 */
export function outboundText(masker: Masker, modelSeesOriginal: boolean): Masker {
  return modelSeesOriginal ? (text) => text : masker;
}
