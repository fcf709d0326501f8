// What the benches' *_PROFILE switches share: the store's run/get/all/exec wrapped so
// that each statement over 50 ms is printed with its time; with `explain`, those over
// a second also print SQLite's query plan.
export function profileStatements(db, { explain = false } = {}) {
  const originals = {};
  for (const method of ['run', 'get', 'all', 'exec']) originals[method] = db[method].bind(db);
  for (const method of Object.keys(originals)) {
    db[method] = (sql, ...args) => {
      const t = performance.now();
      try {
        return originals[method](sql, ...args);
      } finally {
        const ms = performance.now() - t;
        if (ms > 50) console.log(`# ${ms.toFixed(0).padStart(6)} ms ${method} ${sql.replace(/\s+/g, ' ').slice(0, 220)}`);
        if (explain && ms > 1000 && method !== 'exec') {
          for (const r of originals.all(`EXPLAIN QUERY PLAN ${sql.replace(/^\s*CREATE TEMP TABLE \S+ AS/i, '')}`, ...args)) console.log(`#          ${r.detail}`);
        }
      }
    };
  }
}
