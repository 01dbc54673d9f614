/**
 * How subjects are keyed: the words BERT's basic (uncased) tokenizer makes of them, so that a subject
 * matches the words of a text. `New  York`, `new york` and `NEW YORK` are one subject, and `pye-dog` is
 * `pye - dog`, which is how the tokenizer splits it in a text. Pure.
 */
import { bertNormalize, isPunctuation } from '../text/wordpiece.js';

/**
 * The words of a subject as BERT's basic (uncased) tokenizer splits a text: BertNormalizer (lower-case,
 * NFD, accents and control characters dropped), then split on whitespace and around each punctuation
 * character.
 */
export function subjectWords(text: string): string[] {
  const s = bertNormalize(text);
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    if (cp === 32) {
      if (start >= 0) out.push(s.slice(start, i));
      start = -1;
    } else if (isPunctuation(cp)) {
      if (start >= 0) out.push(s.slice(start, i));
      start = -1;
      out.push(s.slice(i, i + w));
    } else if (start < 0) {
      start = i;
    }
    i += w;
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

/** The key of a subject: its {@link subjectWords} joined by one space ('' when it has no words). */
export function subjectKey(text: string): string {
  return subjectWords(text).join(' ');
}

/** Whitespace runs to one space, trimmed: relations and objects are one line of text. */
export function oneSpace(text: string): string {
  return plainWords(text, false) ? text : text.replace(/\s+/gu, ' ').trim();
}

/** Whether `text` is already its {@link subjectKey}: lower-case ASCII letters and digits, single spaces. */
export function isOwnKey(text: string): boolean {
  return plainWords(text, true);
}

/**
 * Whether `text` is printable ASCII words separated by single spaces (no space at either end), and
 * with `key`, only lower-case letters and digits: such a text is already its own key or one-line form.
 */
function plainWords(text: string, key: boolean): boolean {
  const n = text.length;
  if (n === 0 || text.charCodeAt(0) === 32 || text.charCodeAt(n - 1) === 32) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) {
      if (text.charCodeAt(i + 1) === 32) return false;
    } else if (key ? !((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) : c < 33 || c > 126) {
      return false;
    }
  }
  return true;
}
