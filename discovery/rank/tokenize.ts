// Text to terms for the lexical ranker and to words for the embedding ranker. English only:
// the catalogue and the queries are English, and the embeddings are English word vectors.

/** Common English words that carry no meaning for matching (a short list on purpose). */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just let me more most my myself no nor not now of off on once only or ' +
    'other our ours ourselves out over own same she should so some such than that the their theirs them themselves then ' +
    'there these they this those through to too under until up very was we were what when where which while who whom why ' +
    'will with would you your yours yourself yourselves also may might must shall us get got want wants like need needs ' +
    'please help use using used provide provides looking find know tell give make able one'
  ).split(' '),
);

/** Lower-cased alphanumeric words of the text, in order (stop words kept). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g)?.map((word) => word.replace(/'[a-z]+$/, '')) ?? [];
}

/**
 * A light suffix-stripping stemmer (a subset of Porter's step 1 and a few derivational
 * endings): enough to match "translating" with "translation" and "images" with "image"
 * without a dependency.
 */
export function stem(word: string): string {
  if (word.length <= 3 || /^[0-9]+$/.test(word)) return word;
  let w = word;
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  for (const [suffix, replacement] of SUFFIXES) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = w.slice(0, w.length - suffix.length) + replacement;
      break;
    }
  }
  // Undouble a final consonant left by -ing/-ed (running -> run).
  if (/([^aeiouslz])\1$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

const SUFFIXES: readonly (readonly [string, string])[] = [
  ['ational', 'ate'],
  ['ization', 'ize'],
  ['isation', 'ize'],
  ['ations', 'ate'],
  ['ation', 'ate'],
  ['ness', ''],
  ['ments', ''],
  ['ment', ''],
  ['ingly', ''],
  ['edly', ''],
  ['ing', ''],
  ['ers', ''],
  ['er', ''],
  ['ed', ''],
  ['ly', ''],
  ['ical', 'ic'],
  ['ity', ''],
];

/** Terms for the lexical index: words without stop words, stemmed. */
export function terms(text: string): string[] {
  return termsOf(words(text));
}

/** The terms of already split words: stop words dropped, the rest stemmed, in order. */
export function termsOf(textWords: readonly string[]): string[] {
  const result: string[] = [];
  for (const word of textWords) {
    if (STOP_WORDS.has(word)) continue;
    result.push(stem(word));
  }
  return result;
}
