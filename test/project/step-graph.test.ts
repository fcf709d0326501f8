import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { buildJourney } from '../../src/project/build-journey.js';
import { buildStepGraph, loops, reachable } from '../../src/project/step-graph.js';

const journey = (stepsYaml: string) => {
  const text = `id: j\ntrigger: { segment: s }\nsteps:\n${stepsYaml}`;
  return buildJourney(parseDocument(text).toJS(), 'j.yaml', text);
};

describe('the step graph', () => {
  it('continues after a nested list with the step after the branch', () => {
    const g = buildStepGraph(
      journey(`
  - id: b
    branch:
      cases:
        - when: { consent: email }
          then:
            - id: inner
              wait: 1d
  - id: after
    exit: true
`),
    );
    expect(g.nodes.get('b')!.successors.sort()).toEqual(['after', 'inner']);
    expect(g.nodes.get('inner')!.successors).toEqual(['after']);
    expect([...reachable(g)].sort()).toEqual(['after', 'b', 'inner']);
  });

  it('sees a step after an exit as unreachable, and a step a wait_for timeout names as reachable', () => {
    const g = buildStepGraph(
      journey(`
  - id: w
    wait_for: { event: email_opened, timeout: 1d, on_timeout: late }
  - id: stop
    exit: true
  - id: never
    exit: true
  - id: late
    send: { channel: email, template: t }
`),
    );
    expect([...reachable(g)].sort()).toEqual(['late', 'stop', 'w']);
  });

  it('finds loops, in written order', () => {
    const g = buildStepGraph(
      journey(`
  - id: a
    send: { channel: email, template: t }
  - id: b
    update: { set: { x: 1 } }
    next: a
`),
    );
    expect(loops(g)).toEqual([['a', 'b']]);
  });
});
