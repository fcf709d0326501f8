import { describe, expect, it } from 'vitest';
import { recordedSegments, recordSegmentVersions, type SegmentUse } from '../../src/store/segment-versions.js';
import { tempStore } from './helpers.js';

const use = (segment: string, hash: string, usedAs = 'trigger'): SegmentUse => ({ segment, hash, definition: JSON.stringify({ rule: { h: hash } }), usedAs });

describe('segment versions', () => {
  it('numbers versions per segment by rule, reuses a version whose rule comes back, and replaces what a journey uses', () => {
    const db = tempStore();
    db.run(`INSERT INTO journeys (id, version, enabled, deployed_at) VALUES ('j', 1, 1, 0), ('k', 1, 1, 0)`);
    // a journey no run has recorded segments for: nothing to compare with
    expect(recordedSegments(db, 'j')).toBeNull();
    recordSegmentVersions(db, 'j', [use('a', 'h1'), use('b', 'h1', 'inside:a')], 1);
    recordSegmentVersions(db, 'k', [use('a', 'h1')], 1);
    expect([...recordedSegments(db, 'j')!.values()].map((r) => [r.segment, r.version, r.usedAs])).toEqual([['a', 1, 'trigger'], ['b', 1, 'inside:a']]);
    recordSegmentVersions(db, 'j', [use('a', 'h2')], 2);
    expect([...recordedSegments(db, 'j')!.values()].map((r) => [r.segment, r.version])).toEqual([['a', 2]]);
    // another journey keeps the version it ran with
    expect(recordedSegments(db, 'k')!.get('a')!.version).toBe(1);
    recordSegmentVersions(db, 'j', [use('a', 'h1')], 3);
    expect(recordedSegments(db, 'j')!.get('a')!.version).toBe(1);
    // a journey that uses no segment has recorded that: an empty map, not null
    recordSegmentVersions(db, 'j', [], 4);
    expect(recordedSegments(db, 'j')!.size).toBe(0);
    db.close();
  });
});
