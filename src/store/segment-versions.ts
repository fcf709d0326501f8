import type { SqlParams, StoreDb } from './db.js';
import { createTempTable, dropTempTable } from './temp-tables.js';

/** A segment as a journey uses it: its version's hash and definition, and how the journey reaches it. */
export interface SegmentUse {
  segment: string;
  hash: string;
  /** The segment as written (description, rule), as JSON text. */
  definition: string;
  /** `trigger`, `condition`, or `inside:<segment>`. */
  usedAs: string;
}

/** A segment version a journey ran with. */
export interface RecordedSegment extends SegmentUse {
  version: number;
}

/**
 * Records the segments a journey runs with from now on: a new version for a segment
 * whose rule is new (numbered per segment), and the journey's list replaced by these.
 */
export function recordSegmentVersions(db: StoreDb, journeyId: string, uses: readonly SegmentUse[], now: number): void {
  db.transaction(() => {
    db.run('DELETE FROM journey_segments WHERE journey_id = ?', [journeyId]);
    for (const use of uses) {
      db.run(
        `INSERT INTO segment_versions (segment, version, hash, definition, created_at)
         SELECT ?, coalesce(max(version), 0) + 1, ?, ?, ? FROM segment_versions WHERE segment = ?
         ON CONFLICT (segment, hash) DO NOTHING`,
        [use.segment, use.hash, use.definition, now, use.segment],
      );
      db.run(
        `INSERT INTO journey_segments (journey_id, segment, version, used_as)
         SELECT ?, segment, version, ? FROM segment_versions WHERE segment = ? AND hash = ?`,
        [journeyId, use.usedAs, use.segment, use.hash],
      );
    }
    db.run('UPDATE journeys SET segments_recorded_at = ? WHERE id = ?', [now, journeyId]);
  });
}

/**
 * The segment versions a journey ran with at the last run, by segment name; null when
 * no run has recorded them (the journey last ran before segment versions were kept).
 */
export function recordedSegments(db: StoreDb, journeyId: string): Map<string, RecordedSegment> | null {
  const recordedAt = db.get<{ at: number | null }>('SELECT segments_recorded_at AS at FROM journeys WHERE id = ?', [journeyId]);
  if (recordedAt?.at == null) return null;
  const rows = db.all<{ segment: string; version: number; hash: string; definition: string; used_as: string }>(
    `SELECT s.segment, s.version, v.hash, v.definition, s.used_as
     FROM journey_segments s JOIN segment_versions v ON v.segment = s.segment AND v.version = s.version
     WHERE s.journey_id = ? ORDER BY s.segment`,
    [journeyId],
  );
  return new Map(rows.map((r) => [r.segment, { segment: r.segment, version: r.version, hash: r.hash, definition: r.definition, usedAs: r.used_as }]));
}

export interface MemberDiff {
  joining: { count: number; sample: string[] };
  leaving: { count: number; sample: string[] };
}

/**
 * Who a segment's edit adds and drops: both versions' members are computed once
 * each, into temporary tables (nothing is written to the store), and diffed as sets.
 * `before` and `after` are segment queries selecting `id`.
 */
export function diffMembers(db: StoreDb, before: { sql: string; params: SqlParams }, after: { sql: string; params: SqlParams }, sample: number): MemberDiff {
  createTempTable(db, 'segment_before', before.sql, before.params);
  createTempTable(db, 'segment_after', after.sql, after.params);
  try {
    const side = (table: string, from: string, other: string) => {
      const count = createTempTable(db, table, `SELECT id FROM temp.${from} EXCEPT SELECT id FROM temp.${other}`, []);
      const ids = sample > 0 ? db.all<{ id: string }>(`SELECT id FROM temp.${table} ORDER BY id LIMIT ?`, [sample]).map((r) => r.id) : [];
      return { count, sample: ids };
    };
    return { joining: side('segment_joining', 'segment_after', 'segment_before'), leaving: side('segment_leaving', 'segment_before', 'segment_after') };
  } finally {
    for (const t of ['segment_before', 'segment_after', 'segment_joining', 'segment_leaving']) dropTempTable(db, t);
  }
}

/** How many customers a segment query selects now. */
export function countMembers(db: StoreDb, query: { sql: string; params: SqlParams }): number {
  return db.get<{ n: number }>(`SELECT count(*) AS n FROM (${query.sql}) q`, query.params)!.n;
}
