import type { StoreDb } from './db.js';

/** A journey as the store last ran it. */
export interface DeployedJourney {
  id: string;
  version: number;
  hash: string;
  source: string;
  enabled: boolean;
  deployedAt: number;
  lastCheckAt: number | null;
  cursor: number;
}

export function deployedJourneys(db: StoreDb): Map<string, DeployedJourney> {
  const rows = db.all<{ id: string; version: number; hash: string; source: string; enabled: number; deployed_at: number; last_check_at: number | null; cursor: number }>(
    `SELECT j.id, j.version, v.hash, v.source, j.enabled, j.deployed_at, j.last_check_at, j.cursor
     FROM journeys j JOIN journey_versions v ON v.journey_id = j.id AND v.version = j.version
     WHERE j.removed_at IS NULL`,
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { id: r.id, version: r.version, hash: r.hash, source: r.source, enabled: r.enabled === 1, deployedAt: r.deployed_at, lastCheckAt: r.last_check_at, cursor: r.cursor },
    ]),
  );
}

/** Active enrolments of a journey per step. */
export function activeByStep(db: StoreDb, journeyId: string): Map<string, number> {
  const rows = db.all<{ step_id: string; n: number }>(
    `SELECT step_id, count(*) AS n FROM enrolments WHERE journey_id = ? AND status = 'active' GROUP BY step_id`,
    [journeyId],
  );
  return new Map(rows.map((r) => [r.step_id, r.n]));
}

/** Active enrolments of a journey whose step is due by `now`, per step. */
export function dueByStep(db: StoreDb, journeyId: string, now: number): Map<string, number> {
  const rows = db.all<{ step_id: string; n: number }>(
    `SELECT step_id, count(*) AS n FROM enrolments WHERE status = 'active' AND due_at <= ? AND journey_id = ? GROUP BY step_id`,
    [now, journeyId],
  );
  return new Map(rows.map((r) => [r.step_id, r.n]));
}

/** Starts a journey's trigger afresh (its trigger changed): from the given cursor, as if never checked. */
export function restartTrigger(db: StoreDb, journeyId: string, cursor: number): void {
  db.run('UPDATE journeys SET cursor = ?, last_check_at = NULL WHERE id = ?', [cursor, journeyId]);
}

/** The highest event and status-change positions, where a first run of an event trigger starts. */
export function eventCursors(db: StoreDb): { events: number; statusChanges: number } {
  const row = db.get<{ events: number | null; changes: number | null }>(
    'SELECT (SELECT max(seq) FROM events) AS events, (SELECT max(id) FROM order_status_history) AS changes',
  );
  return { events: row?.events ?? 0, statusChanges: row?.changes ?? 0 };
}

/**
 * Records that a journey runs from now on with this text: a new version when the
 * text is new (versions are numbered per journey), the journeys row pointing at it.
 * Returns the version number.
 */
export function deployVersion(db: StoreDb, journey: { id: string; source: string; hash: string; enabled: boolean }, now: number, initialCursor = 0): number {
  return db.transaction(() => {
    const existing = db.get<{ version: number }>('SELECT version FROM journey_versions WHERE journey_id = ? AND hash = ?', [journey.id, journey.hash]);
    const version =
      existing?.version ??
      (db.get<{ v: number | null }>('SELECT max(version) AS v FROM journey_versions WHERE journey_id = ?', [journey.id])?.v ?? 0) + 1;
    if (!existing) {
      db.run('INSERT INTO journey_versions (journey_id, version, hash, source, created_at) VALUES (?, ?, ?, ?, ?)', [journey.id, version, journey.hash, journey.source, now]);
    }
    // an event trigger starts at the events there are when the journey is first deployed
    db.run(
      `INSERT INTO journeys (id, version, enabled, deployed_at, cursor) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, enabled = excluded.enabled, removed_at = NULL,
         deployed_at = CASE WHEN journeys.version = excluded.version THEN journeys.deployed_at ELSE excluded.deployed_at END`,
      [journey.id, version, journey.enabled ? 1 : 0, now, initialCursor],
    );
    return version;
  });
}

/** The text of every version the store recorded, per journey id (removed journeys too): the steps customers may have been at. */
export function recordedVersionSources(db: StoreDb): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of db.all<{ journey_id: string; source: string }>('SELECT journey_id, source FROM journey_versions ORDER BY journey_id, version')) {
    const list = out.get(r.journey_id) ?? [];
    list.push(r.source);
    out.set(r.journey_id, list);
  }
  return out;
}
