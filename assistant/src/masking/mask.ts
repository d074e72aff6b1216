import { isIPv4, isIPv6 } from "node:net";

/**
 * Personal-data masking applied before anything is stored or logged. Each detector finds candidates
 * with a regular expression and, where the format has one, confirms them with a real check (the CN
 * resident-ID checksum, Luhn for cards, the platform's IP parsers) so ordinary numbers survive.
 * Detectors read the text normalised (NFKC, invisible characters dropped), so full-width digits or a
 * zero-width space inside a number hide nothing; each runs in time linear in the text's length, as
 * the access log masks what unauthenticated clients send.
 */
export type MaskMode = "mask" | "redact";

export interface CustomRule {
  name: string;
  pattern: string;
  flags: string;
}

interface Found {
  index: number;
  value: string;
}

export interface Detector {
  name: string;
  /** The candidates in `text`, in order and not overlapping. */
  find: (text: string) => Iterable<Found>;
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

function* matchesOf(pattern: RegExp, text: string): Generator<Found> {
  for (const match of text.matchAll(pattern)) yield { index: match.index, value: match[0] };
}

const byPattern = (pattern: RegExp) => (text: string) => matchesOf(pattern, text);

/**
 * Letters of any script count (IDN and internationalised addresses), except that a local part never
 * takes Chinese, Japanese or Korean characters: those are the prose written right before an address.
 */
const EMAIL_LOCAL_CHAR = new RegExp("^[[\\p{L}\\p{M}\\p{N}._%+\\-]--[\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Hangul}]]$", "v");
const EMAIL_LABEL = "[\\p{L}\\p{M}\\p{N}\\-]{1,63}";
const EMAIL_DOMAIN = new RegExp(`@${EMAIL_LABEL}(?:\\.${EMAIL_LABEL}){0,8}\\.(?:xn--[a-z0-9\\-]{1,59}|[A-Za-z]{2,63}|[\\p{L}--[A-Za-z]]{2,63})`, "vy");
/** RFC 5321's longest local part. */
const EMAIL_LOCAL_MAX = 64;

/**
 * Addresses, found from their `@` outward: the local part read backwards (at most 64 characters) and
 * the domain forwards, so every character is looked at a bounded number of times. A pattern that
 * starts with the local part is tried again from every position of a long word with no `@`, which
 * made one match quadratic in the text's length.
 */
function* emails(text: string): Generator<Found> {
  let taken = 0;
  for (let at = text.indexOf("@"); at >= 0; at = text.indexOf("@", Math.max(at + 1, taken))) {
    let start = at;
    while (start > taken && at - start < EMAIL_LOCAL_MAX) {
      const before = text.charCodeAt(start - 1);
      const width = before >= 0xdc00 && before <= 0xdfff && start >= 2 ? 2 : 1;
      if (start - width < taken || !EMAIL_LOCAL_CHAR.test(text.slice(start - width, start))) break;
      start -= width;
    }
    if (start === at) continue;
    EMAIL_DOMAIN.lastIndex = at;
    const domain = EMAIL_DOMAIN.exec(text);
    if (domain === null) continue;
    taken = at + domain[0].length;
    yield { index: start, value: text.slice(start, taken) };
  }
}

export const DETECTORS: readonly Detector[] = [
  {
    name: "EMAIL",
    find: emails,
    mask: (match) => {
      const at = match.indexOf("@");
      return `${match.slice(0, 1)}***${match.slice(at)}`;
    },
  },
  {
    name: "CN_ID",
    find: byPattern(new RegExp(`${NOT_ALNUM_BEFORE}\\d{17}[\\dXx]${NOT_ALNUM_AFTER}`, "g")),
    accept: validCnResidentId,
    mask: (match) => `${match.slice(0, 3)}${"*".repeat(11)}${match.slice(14)}`,
  },
  {
    name: "PHONE",
    find: byPattern(new RegExp(`\\+[1-9]\\d{0,3}(?:[ -]?\\d){6,14}${NOT_ALNUM_AFTER}`, "g")),
    accept: (match) => {
      const count = digitsOf(match).length;
      return count >= 8 && count <= 15;
    },
    mask: maskDigits,
  },
  {
    name: "BANK_CARD",
    find: byPattern(new RegExp(`${NOT_ALNUM_BEFORE}\\d(?:[ -]?\\d){12,18}${NOT_ALNUM_AFTER}`, "g")),
    accept: (match) => luhn(digitsOf(match)),
    mask: maskDigits,
  },
  {
    name: "PHONE",
    find: byPattern(new RegExp(`${NOT_ALNUM_BEFORE}1[3-9]\\d[ -]?\\d{4}[ -]?\\d{4}${NOT_ALNUM_AFTER}`, "g")),
    mask: maskDigits,
  },
  {
    name: "IP",
    find: byPattern(/(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Fa-f:])/g),
    accept: isIPv6,
    mask: (match) => `${match.split(":")[0] ?? ""}:****`,
  },
  {
    name: "IP",
    find: byPattern(/(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g),
    accept: isIPv4,
    mask: (match) => `${match.split(".").slice(0, 2).join(".")}.*.*`,
  },
];

export type Masker = (text: string) => string;

/** Characters that do not show (zero-width and other format characters): they can split a number unseen. */
const INVISIBLE = /^[\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
const normalForms = new Map<string, string>();

/** A character as the detectors read it: its NFKC form (full-width digits are digits), nothing if it does not show. */
function normalForm(char: string): string {
  let normal = normalForms.get(char);
  if (normal === undefined) {
    normal = INVISIBLE.test(char) ? "" : char.normalize("NFKC");
    normalForms.set(char, normal);
  }
  return normal;
}

/** The text the detectors read, and where each of its ranges came from in the original. */
interface DetectionText {
  text: string;
  original(start: number, end: number): [number, number];
}

/** Nothing outside ASCII: NFKC leaves it as it is, and none of it is invisible. */
const ASCII = /^[^\u0080-\uffff]*$/;

/**
 * Normalises character by character, so every detected range maps back onto the original: what is
 * stored keeps its own characters (full-width punctuation in Chinese prose stays as written), and
 * only a detected value is replaced, by the mask of its normal form.
 */
function detectionText(original: string): DetectionText {
  if (ASCII.test(original)) return { text: original, original: (start, end) => [start, end] };
  const parts: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (let index = 0; index < original.length; ) {
    const point = original.codePointAt(index) ?? 0;
    const width = point > 0xffff ? 2 : 1;
    const char = original.slice(index, index + width);
    // ASCII and the CJK Unified Ideographs, nearly all of any text here, are their own normal form.
    const normal = point < 0x80 || (point >= 0x4e00 && point <= 0x9fff) ? char : normalForm(char);
    for (let unit = 0; unit < normal.length; unit += 1) {
      starts.push(index);
      ends.push(index + width);
    }
    parts.push(normal);
    index += width;
  }
  return { text: parts.join(""), original: (start, end) => [starts[start] ?? original.length, ends[end - 1] ?? original.length] };
}

interface Span {
  start: number;
  end: number;
  replacement: string;
}

/** Stands in for a detected value while later detectors run, so none of them matches inside it again. */
const TAKEN = "\uffff";

/** `text` with each of the (ordered, disjoint) spans overwritten by TAKEN, in one pass. */
function blanked(text: string, spans: readonly Span[]): string {
  const parts: string[] = [];
  let at = 0;
  for (const { start, end } of spans) {
    parts.push(text.slice(at, start), TAKEN.repeat(end - start));
    at = end;
  }
  parts.push(text.slice(at));
  return parts.join("");
}

export function createMasker(mode: MaskMode, rules: readonly CustomRule[]): Masker {
  const all: Detector[] = [
    ...DETECTORS,
    ...rules.map((rule) => ({
      name: rule.name.toUpperCase(),
      find: byPattern(new RegExp(rule.pattern, `${rule.flags}g`)),
      mask: (match: string) => "*".repeat(match.length),
    })),
  ];
  return (text) => {
    const view = detectionText(text);
    let remaining = view.text;
    const spans: Span[] = [];
    for (const detector of all) {
      const found: Span[] = [];
      for (const { index, value } of detector.find(remaining)) {
        if (value === "" || value.includes(TAKEN) || (detector.accept !== undefined && !detector.accept(value))) continue;
        found.push({ start: index, end: index + value.length, replacement: mode === "redact" ? `[${detector.name}]` : detector.mask(value) });
      }
      if (found.length > 0) remaining = blanked(remaining, found);
      spans.push(...found);
    }
    if (spans.length === 0) return text;
    spans.sort((left, right) => left.start - right.start);
    const out: string[] = [];
    let at = 0;
    for (const span of spans) {
      const [start, end] = view.original(span.start, span.end);
      out.push(text.slice(at, start), span.replacement);
      at = end;
    }
    out.push(text.slice(at));
    return out.join("");
  };
}

/**
 * What of a text may leave the service, for the model or the embeddings endpoint: all of it when
 * `privacy.modelSeesOriginal` allows, else its masked form.
 */
export function outboundText(masker: Masker, modelSeesOriginal: boolean): Masker {
  return modelSeesOriginal ? (text) => text : masker;
}
