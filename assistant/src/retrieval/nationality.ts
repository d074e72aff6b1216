/**
 * Nationality and language adjectives ("Chinese employees", "French law") are capitalised like
 * names, but a passage that answers about them names the country: "Employees in China…". These are
 * the other forms such an adjective takes in a passage, so the evidence check does not decline a
 * question whose passages speak of the country.
 */

export interface NationalityForms {
  /** The country its language is chiefly spoken in, folded, in English and in Chinese: french → france, 法国. */
  places: readonly string[];
  /**
   * For an adjective built on its country's name (Chinese, Portuguese, Canadian, Pakistani): the
   * start the country's name begins with, capitalised as a name is (Chin, Portug, Cana), so that
   * India answers for Indian but "individual" does not.
   */
  stem: string | undefined;
}

/** -ese, -ian, -an, -ish, -i: the endings English builds nationality adjectives with. */
const DEMONYM_ENDING = /(?:ese|ian|an|ish|i)$/;
/** The letters at the end of the adjective its country's name may not share: Portug(uese) and Portug(al), Cana(dian) and Cana(da). */
const ENDING_LETTERS = 4;
const MIN_STEM = 4;

/** ICU's own names, so no list of countries is kept here: the English name of a language, folded, to its main country's names. */
let languagePlaces: Map<string, string[]> | undefined;

function placesOfLanguages(): Map<string, string[]> {
  if (languagePlaces !== undefined) return languagePlaces;
  const languages = new Intl.DisplayNames("en", { type: "language", fallback: "none" });
  const regionNames = [new Intl.DisplayNames("en", { type: "region", fallback: "none" }), new Intl.DisplayNames("zh", { type: "region", fallback: "none" })];
  languagePlaces = new Map();
  for (let first = 97; first <= 122; first += 1) {
    for (let second = 97; second <= 122; second += 1) {
      const code = String.fromCharCode(first, second);
      const language = languages.of(code);
      const region = language === undefined ? undefined : new Intl.Locale(code).maximize().region;
      if (language === undefined || region === undefined) continue;
      const places = regionNames.map((names) => names.of(region)?.toLowerCase()).filter((place) => place !== undefined);
      languagePlaces.set(language.toLowerCase(), places);
    }
  }
  return languagePlaces;
}

/** The other forms of `name`, a capitalised word as the question writes it; none for other words. */
export function nationalityForms(name: string): NationalityForms {
  const folded = name.toLowerCase();
  const stemLength = Math.max(MIN_STEM, name.length - ENDING_LETTERS);
  const builtOnPlace = /^[A-Z][a-z]+$/.test(name) && DEMONYM_ENDING.test(name) && stemLength < name.length;
  return { places: placesOfLanguages().get(folded) ?? [], stem: builtOnPlace ? name.slice(0, stemLength) : undefined };
}

/** Whether `text` has a word that begins with `start`. */
export function hasWordStarting(text: string, start: string): boolean {
  for (let at = text.indexOf(start); at !== -1; at = text.indexOf(start, at + 1)) {
    if (at === 0 || !WORD_CHARACTER.test(text.charAt(at - 1))) return true;
  }
  return false;
}
const WORD_CHARACTER = /[\p{L}\p{N}]/u;
