/**
 * Segment versions, recorded like journey versions. An edited segment rule changes
 * who a journey targets even when the journey's file is untouched, so a run records
 * the version of every segment each journey uses (its trigger, its conditions, and
 * the segments those include), and `journey plan` compares the files with the
 * versions the last run used: who would join, who would leave, which condition changed.
 */
export const version = 11;
export const name = 'segment versions';
export const sql = `
CREATE TABLE segment_versions (
  segment    TEXT NOT NULL,
  version    INTEGER NOT NULL,
  hash       TEXT NOT NULL,      -- sha256 of the rule as canonical JSON: a new description is not a new version
  definition TEXT NOT NULL,      -- the segment as written (description, rule), as JSON, to compile and diff later
  created_at INTEGER NOT NULL,
  PRIMARY KEY (segment, version)
);
CREATE UNIQUE INDEX segment_versions_by_hash ON segment_versions (segment, hash);

-- The segment versions a journey ran with at the last run, replaced at each run.
CREATE TABLE journey_segments (
  journey_id TEXT NOT NULL,
  segment    TEXT NOT NULL,
  version    INTEGER NOT NULL,
  -- trigger, condition, or inside:<segment> (reached through another segment's rule)
  used_as    TEXT NOT NULL,
  PRIMARY KEY (journey_id, segment)
) WITHOUT ROWID;

-- When a run last recorded the journey's segments (NULL: never, as runs before this
-- migration; then the plan has no versions to compare the segments with).
ALTER TABLE journeys ADD COLUMN segments_recorded_at INTEGER;
`;
