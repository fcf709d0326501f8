/**
 * What the engine knows about running journeys. Times are epoch ms, as everywhere.
 *
 * A journey is "deployed" when a run first records it: its version is the hash and
 * text of the file then, and enrolments remember the version they entered under, so
 * that `journey plan` can show what an edit does to customers already inside.
 */
export const version = 4;
export const name = 'journey state';
export const sql = `
CREATE TABLE journey_versions (
  journey_id TEXT NOT NULL,
  version    INTEGER NOT NULL,
  hash       TEXT NOT NULL,      -- sha256 of the file's text
  source     TEXT NOT NULL,      -- the text itself, to diff against and to run old enrolments
  created_at INTEGER NOT NULL,
  PRIMARY KEY (journey_id, version)
);
CREATE UNIQUE INDEX journey_versions_by_hash ON journey_versions (journey_id, hash);

-- One row per deployed journey: the version that runs and where its triggers stand.
CREATE TABLE journeys (
  id            TEXT PRIMARY KEY,
  version       INTEGER NOT NULL,
  enabled       INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  deployed_at   INTEGER NOT NULL,
  -- segment triggers: when membership was last recomputed (NULL: never, so the next
  -- check records the members without entering them unless backfill is on)
  last_check_at INTEGER,
  -- event triggers: the last events.seq / order_status_history.id already considered
  cursor        INTEGER NOT NULL DEFAULT 0,
  removed_at    INTEGER
);

-- A segment trigger enters customers who were not in the segment at the last check.
CREATE TABLE segment_memberships (
  journey_id  TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  since       INTEGER NOT NULL,
  PRIMARY KEY (journey_id, customer_id)
) WITHOUT ROWID;

CREATE TABLE enrolments (
  id              INTEGER PRIMARY KEY,
  journey_id      TEXT NOT NULL,
  version         INTEGER NOT NULL,
  customer_id     TEXT NOT NULL,
  -- what caused the entry: segment:<check time>, order:<order id>, event:<seq>, date:<local date>;
  -- unique per journey and customer, so that a repeated tick cannot enter twice
  entry_key       TEXT NOT NULL,
  order_id        TEXT,
  trigger_at      INTEGER NOT NULL,
  entered_at      INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('active', 'exited', 'completed')),
  step_id         TEXT,
  step_started_at INTEGER,
  -- when the current step is to be looked at again (a wait ends, a wait_for times out)
  due_at          INTEGER,
  variant         TEXT,
  exit_reason     TEXT,
  exited_at       INTEGER,
  converted_at    INTEGER,
  conversion_order_id TEXT,
  conversion_value    REAL,
  UNIQUE (journey_id, customer_id, entry_key)
);
-- the tick's "who is due" scan, a range over active rows by time
CREATE INDEX enrolments_due ON enrolments (status, due_at);
-- entry limits (how often, how recently) per customer and journey
CREATE INDEX enrolments_by_customer ON enrolments (customer_id, journey_id, entered_at);
-- "is this customer inside this journey now": one probe per candidate at every tick
CREATE INDEX enrolments_active ON enrolments (journey_id, customer_id) WHERE status = 'active';
CREATE INDEX enrolments_by_order ON enrolments (order_id) WHERE order_id IS NOT NULL;
`;
