/** The plan's lines for the segments a journey uses that changed since the last run. */
import type { RuleEdit, SegmentChange } from '../../engine/segment-changes.js';
import { shownText } from '../../pii.js';
import { chalk } from '../output.js';

const n = (x: number) => x.toLocaleString('en-US');

const role = (usedAs: string) => (usedAs.startsWith('inside:') ? ` (inside ${usedAs.slice('inside:'.length)})` : '');

const edit = (e: RuleEdit) => `${e.path} ${e.before ?? '(none)'} -> ${e.after ?? '(none)'}`;

const side = (sign: string, word: string, s: { count: number; sample: string[] }) =>
  `${sign}${n(s.count)} ${word}${s.sample.length > 0 ? ` (${s.sample.map(shownText).join(', ')}${s.count > s.sample.length ? ', ...' : ''})` : ''}`;

export function segmentChangeLines(changes: readonly SegmentChange[]): string[] {
  if (changes.length > 0 && changes.every((c) => c.status === 'unrecorded')) {
    return [chalk.dim(`    segments  ${changes.map((c) => c.segment).join(', ')}: no versions recorded (the last run predates them); the next run records them`)];
  }
  const lines: string[] = [];
  for (const c of changes) {
    switch (c.status) {
      case 'changed': {
        const what = c.rule.length > 0 ? `changed: ${c.rule.map(edit).join('; ')}` : 'changed';
        const through = c.through.length > 0 ? `${c.rule.length > 0 ? ';' : ''} through segment ${c.through.join(', ')}` : '';
        lines.push(chalk.yellow(`    ~ segment ${c.segment}${role(c.usedAs)} ${what}${through}`));
        if (c.joining && c.leaving) lines.push(`        ${side('+', 'join', c.joining)}, ${side('-', 'leave', c.leaving)}`);
        if (c.note) lines.push(chalk.dim(`        ${c.note}`));
        break;
      }
      case 'new':
        lines.push(chalk.green(`    + segment ${c.segment}${role(c.usedAs)} now used: ${n(c.members)} customers`));
        break;
      case 'removed':
        lines.push(chalk.red(`    - segment ${c.segment}${role(c.usedAs)} no longer used`));
        break;
      case 'unrecorded':
        lines.push(chalk.dim(`    segment ${c.segment}: no version recorded yet`));
        break;
      default: {
        const never: never = c;
        throw new Error(`unknown segment change ${JSON.stringify(never)}`);
      }
    }
  }
  return lines;
}
