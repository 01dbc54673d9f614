/**
 * A sentence tree as text, for `minnow explain-tree`: the tree on one line (each branch in braces after
 * its anchor), then one row per token with its soft position, segment, branch and visible-matrix row
 * (`1` = may attend to that column, `.` = masked). Pure.
 */
import type { BertTokenizer } from '../text/wordpiece.js';
import type { SentenceTree } from './sentence-tree.js';

/**
 * Renders `tree`; `tokenizer` turns ids back into pieces. For `the dog barked` with one fact:
 *
 * ```
 * [CLS] the dog {is a canine} barked [SEP]
 *
 * #  token   pos seg  branch     visible
 *                                01234567
 * 0  [CLS]     0   0             111...11
 * 1  the       1   0             111...11
 * 2  dog       2   0             11111111
 * 3  is        3   1  b0 <- dog  ..1111..
 * 4  a         4   1  b0 <- dog  ..1111..
 * 5  canine    5   1  b0 <- dog  ..1111..
 * 6  barked    3   0             111...11
 * 7  [SEP]     4   0             111...11
 * ```
 *
 * With more than 10 tokens a tens row tops the column numbers; dropped branches and cut pieces are noted
 * at the end.
 */
export function formatTree(tree: SentenceTree, tokenizer: Pick<BertTokenizer, 'tokenOf'>): string {
  const T = tree.length;
  const tokens = Array.from(tree.inputIds, (id) => tokenizer.tokenOf(id) ?? `<${id}>`);
  const line: string[] = [];
  for (let t = 0; t < T; t++) {
    const b = tree.branchOf[t];
    if (b < 0) line.push(tokens[t]);
    else if (t === tree.branches[b].start) line.push(`{${tokens.slice(t, tree.branches[b].end).join(' ')}}`);
  }
  const width = Math.max(5, ...tokens.map((s) => s.length));
  const branchText = (t: number): string => {
    const b = tree.branchOf[t];
    if (b < 0) return '';
    const br = tree.branches[b];
    return `b${b} <- ${tokens.slice(br.anchorStart, br.anchorEnd).join(' ')}`;
  };
  const branchWidth = Math.max(6, ...Array.from({ length: T }, (_, t) => branchText(t).length));
  const index = String(T - 1).length;
  const pad = ' '.repeat(index + 2 + width + 1 + 4 + 4 + 2 + branchWidth + 2);
  const out = [line.join(' '), ''];
  out.push(
    `${'#'.padStart(index)}  ${'token'.padEnd(width)} ${'pos'.padStart(4)}${'seg'.padStart(4)}  ${'branch'.padEnd(branchWidth)}  visible`,
  );
  if (T > 10)
    out.push(
      pad +
        Array.from({ length: T }, (_, j) => (j % 10 === 0 ? String(Math.floor(j / 10) % 10) : ' ')).join(''),
    );
  out.push(pad + Array.from({ length: T }, (_, j) => String(j % 10)).join(''));
  for (let i = 0; i < T; i++) {
    let row = '';
    for (let j = 0; j < T; j++) row += tree.visible[i * T + j] ? '1' : '.';
    out.push(
      `${String(i).padStart(index)}  ${tokens[i].padEnd(width)} ${String(tree.positionIds[i]).padStart(4)}${String(tree.tokenTypeIds[i]).padStart(4)}  ${branchText(i).padEnd(branchWidth)}  ${row}`,
    );
  }
  const notes: string[] = [];
  if (tree.droppedBranches > 0) notes.push(`${tree.droppedBranches} branches dropped to fit maxLength`);
  if (tree.cutPieces > 0) notes.push(`${tree.cutPieces} trunk pieces cut to fit maxLength`);
  if (notes.length > 0) out.push('', notes.join('; '));
  return out.join('\n') + '\n';
}
