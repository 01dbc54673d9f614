/**
 * Fuzzing the user's knowledge: triples files (CSV/TSV text of any kind, and valid files edited at
 * random) must give triples or one-line UserErrors naming the file; the graph built from them must
 * survive its own text form (serialize, parse) with the same facts, and the load-time warnings must not
 * throw.
 */
import fc from 'fast-check';
import {
  anyText,
  applyEdits,
  check,
  editArb,
  expectUserErrorOrSuccess,
  fuzzTarget,
  type SomeFuzzTarget,
  textOver,
} from '../util/fuzzing.js';
import { KnowledgeGraph } from './graph.js';
import { knowledgeWarnings } from './load.js';
import { parseTriples } from './triples.js';

const VALID = [
  'subject,relation,object',
  'dog,is a,canine  # a comment',
  '"New   York",is a,"city, in the USA"',
  'the,is a,article',
  'dog,is a,pet',
  'dog,is a,mammal',
  '',
].join('\n');

const file = fc.constantFrom('kg.csv', 'kg.tsv', 'kg.txt', 'kg');
const text = fc.oneof(
  anyText(80),
  textOver(['a', 'b', ' ', ',', '\t', '"', '#', '\n', '\r\n', 'is a', '\ufeff', '\u0000'], 80),
  fc
    .array(editArb(fc.oneof(textOver(['"', ',', '\t', '\n', '#', ' '], 4), anyText(4))), { maxLength: 6 })
    .map((edits) => applyEdits(VALID, edits)),
);

export const KNOWLEDGE_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'knowledge: triples files, the graph and its text form',
    arbitrary: fc.tuple(text, file, fc.integer({ min: 1, max: 4 })),
    predicate: ([content, name, maxEntities]) => {
      const out = expectUserErrorOrSuccess(() => parseTriples(content, name), { prefix: name });
      if (!out.ok) return;
      for (const t of out.value)
        check(
          t.subject !== '' && t.relation !== '' && t.object !== '',
          () => `empty field: ${JSON.stringify(t)}`,
        );
      const built = expectUserErrorOrSuccess(() => KnowledgeGraph.fromTriples(out.value));
      if (!built.ok) return;
      const g = built.value;
      const again = KnowledgeGraph.parse(g.serialize(), name);
      check(again.size === g.size && again.subjects === g.subjects, 'the text form changed the graph');
      for (const [subject] of g.factCounts())
        check(
          JSON.stringify(again.facts(subject)) === JSON.stringify(g.facts(subject)),
          () => `facts of "${subject}" changed in the text form`,
        );
      for (const w of knowledgeWarnings(g, name, maxEntities))
        check(!/[\r\n]/.test(w), () => `a warning on two lines: ${JSON.stringify(w)}`);
    },
  }),
];
