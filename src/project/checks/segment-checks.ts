import { error } from '../diagnostic.js';
import { ENROLMENT_RULE_KINDS, type Rule } from '../model.js';
import { ruleNodes } from '../rule-walk.js';
import { checkRuleValues } from './journey-checks.js';
import type { CheckContext, Finding } from './types.js';

export function checkSegments(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const segment of ctx.project.segments.values()) {
    for (const d of checkRuleValues(segment.rule, ctx)) out.push({ file: segment.file, diagnostic: d });
    for (const r of ruleNodes(segment.rule)) {
      if (ENROLMENT_RULE_KINDS.has(r.kind)) {
        const key = r.kind === 'message' ? r.event : r.kind;
        out.push({
          file: segment.file,
          diagnostic: error('journey-only-condition', [...r.path, key], `'${key}' is about a customer's place in a journey and cannot be used in a segment`, 'use it in a journey: exit_when, a step\'s when, or a branch', 'key'),
        });
      }
    }
  }
  out.push(...segmentCycles(ctx));
  return out;
}

/** Segments that are members of themselves, directly or through others, cannot be computed. */
function segmentCycles(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const segments = ctx.project.segments;
  const reported = new Set<string>();
  // trail: the segments on the way here, each with the reference that led onwards
  const visit = (name: string, trail: { name: string; ref: Rule }[]): void => {
    const segment = segments.get(name);
    if (!segment) return;
    for (const r of ruleNodes(segment.rule)) {
      if (r.kind !== 'segment') continue;
      const at = trail.findIndex((t) => t.name === r.name);
      if (r.name === name || at >= 0) {
        const loop = r.name === name ? [{ name, ref: r }] : [...trail.slice(at), { name, ref: r }];
        const members = loop.map((l) => l.name);
        const key = [...members].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          const first = segments.get(loop[0]!.name)!;
          out.push({
            file: first.file,
            diagnostic: error('segment-cycle', [...loop[0]!.ref.path, 'segment'], `segment '${members[0]}' includes itself: ${[...members, members[0]].join(' → ')}`, 'a segment cannot be a member of itself, directly or through other segments'),
          });
        }
        continue;
      }
      visit(r.name, [...trail, { name, ref: r }]);
    }
  };
  for (const name of segments.keys()) visit(name, []);
  return out;
}
