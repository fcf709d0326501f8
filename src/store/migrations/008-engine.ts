/**
 * What `journey run` needs beyond the journey state of 004: the lock that keeps two
 * runners off one store, and the step log (every step an enrolment took, and why).
 */
export const version = 8;
export const name = 'engine';
export const sql = `
-- One row per lock name. A runner takes it by writing its name and an expiry; a
-- runner killed without releasing it leaves an expiry that passes.
CREATE TABLE runner_lock (
  name        TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE step_log (
  id           INTEGER PRIMARY KEY,
  enrolment_id INTEGER NOT NULL,
  step_id      TEXT,
  at           INTEGER NOT NULL,
  -- entered, sent, skipped, deferred, waiting, waited, event, timeout, branched, split,
  -- updated, synced, moved, exited, completed, converted
  outcome      TEXT NOT NULL,
  -- why: the reason, the case taken, the variant, where to
  detail       TEXT
);
CREATE INDEX step_log_by_enrolment ON step_log (enrolment_id, id);

-- a tick's "who is due at this step" is a range over due_at (wait_for steps, looked at
-- every tick, read the whole (journey, step) prefix)
CREATE INDEX enrolments_at_step ON enrolments (journey_id, step_id, due_at) WHERE status = 'active';
`;
