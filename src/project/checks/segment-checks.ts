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

/** How deep segments may name segments (segment: within segment:): deeper, a chain only costs time to check and compile. */
export const MAX_SEGMENT_NESTING = 32;

/**
 * Segments that are members of themselves, directly or through others, cannot be
 * computed; a chain of segments deeper than MAX_SEGMENT_NESTING is refused. One
 * depth-first walk, each segment once (a walk per path took 25 s for 24 levels of
 * segments that each name the one below twice), without recursion (a chain may be
 * thousands long).
 */
function segmentCycles(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const segments = ctx.project.segments;
  const refs = new Map<string, Rule[]>();
  for (const [name, segment] of segments) refs.set(name, [...ruleNodes(segment.rule)].filter((r) => r.kind === 'segment' && segments.has(r.name)));
  const refName = (r: Rule) => (r as Extract<Rule, { kind: 'segment' }>).name;
  const state = new Map<string, 'open' | 'done'>();
  // the longest chain of segments from each one, itself included, and its next member on that chain
  const depth = new Map<string, number>();
  const deepest = new Map<string, Rule>();
  const reported = new Set<string>();
  for (const root of segments.keys()) {
    if (state.has(root)) continue;
    const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const own = refs.get(top.name)!;
      if (top.next < own.length) {
        const r = own[top.next++]!;
        const name = refName(r);
        const seen = state.get(name);
        if (seen === 'open') {
          // a loop: the walk's members from that segment on, each with the reference that led onwards
          const at = stack.findIndex((f) => f.name === name);
          const loop = stack.slice(at).map((f) => ({ name: f.name, ref: refs.get(f.name)![f.next - 1]! }));
          const members = loop.map((l) => l.name);
          const key = [...members].sort().join(',');
          if (!reported.has(key)) {
            reported.add(key);
            out.push({
              file: segments.get(members[0]!)!.file,
              diagnostic: error('segment-cycle', [...loop[0]!.ref.path, 'segment'], `segment '${members[0]}' includes itself: ${[...members, members[0]].join(' → ')}`, 'a segment cannot be a member of itself, directly or through other segments'),
            });
          }
        } else if (seen === undefined) {
          state.set(name, 'open');
          stack.push({ name, next: 0 });
        }
        continue;
      }
      stack.pop();
      state.set(top.name, 'done');
      let best = 0;
      for (const r of own) {
        // a reference back into the loop being walked has no depth yet: the loop is its error
        const d = depth.get(refName(r));
        if (d !== undefined && d > best) {
          best = d;
          deepest.set(top.name, r);
        }
      }
      depth.set(top.name, best + 1);
    }
  }
  // each chain that is too deep once: at the segment where it starts, not at every member
  const tooDeep = [...segments.keys()].filter((name) => depth.get(name)! > MAX_SEGMENT_NESTING);
  const inside = new Set(tooDeep.flatMap((name) => refs.get(name)!.map(refName)));
  for (const name of tooDeep) {
    if (inside.has(name)) continue;
    const chain = [name];
    for (let at = deepest.get(name); at !== undefined; at = deepest.get(refName(at))) chain.push(refName(at));
    const shown = chain.length <= 8 ? chain : [...chain.slice(0, 4), '…', ...chain.slice(-2)];
    out.push({
      file: segments.get(name)!.file,
      diagnostic: error(
        'segment-nesting',
        [...deepest.get(name)!.path, 'segment'],
        `segment '${name}' nests segments ${chain.length.toLocaleString('en-US')} deep (${shown.join(' → ')}), more than ${MAX_SEGMENT_NESTING}`,
        `a segment may name a segment that names another, up to ${MAX_SEGMENT_NESTING} deep: name the rules of the inner ones directly`,
      ),
    });
  }
  return out;
}
