/**
 * The core tables.
 *
 * Conventions (every table, every later migration):
 * - Times are INTEGER milliseconds since the Unix epoch, UTC. Integers compare and
 *   index faster than text, window arithmetic ("30 days ago") is a subtraction, and
 *   PostgreSQL stores them as bigint unchanged. A customer's own zone is in
 *   customers.timezone, for calendar windows computed in their time.
 * - Money is REAL in the order's currency unit (12.90, not cents): sums and
 *   thresholds in segments stay plain numbers; exports carry two decimals at most.
 * - Ids are the shop's own ids as TEXT.
 * - attributes / properties are JSON objects as TEXT, merged on import.
 */
export const version = 1;
export const name = 'core tables';
export const sql = `
CREATE TABLE customers (
  id            TEXT PRIMARY KEY,
  email         TEXT,
  phone         TEXT,
  first_name    TEXT,
  last_name     TEXT,
  registered_at INTEGER,
  timezone      TEXT,
  locale        TEXT,
  country       TEXT,
  city          TEXT,
  attributes    TEXT NOT NULL DEFAULT '{}'
);

-- Channels are the shop's own words (email, sms, whatsapp, push ...), hence rows, not columns.
CREATE TABLE customer_consents (
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  channel     TEXT NOT NULL,
  granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (customer_id, channel)
) WITHOUT ROWID;

CREATE TABLE products (
  id         TEXT PRIMARY KEY,
  sku        TEXT,
  title      TEXT,
  category   TEXT,
  price      REAL,
  currency   TEXT,
  url        TEXT,
  image_url  TEXT,
  created_at INTEGER,
  attributes TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE orders (
  id          TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  placed_at   INTEGER NOT NULL,
  -- lower-case canonical: pending, processing, invoiced, shipped, delivered,
  -- canceled, unavailable, refunded, or the shop's own
  status      TEXT NOT NULL,
  total       REAL,
  currency    TEXT,
  attributes  TEXT NOT NULL DEFAULT '{}'
);

-- One row per status an order has been seen in, appended by imports when the
-- status changes (never on a re-import of the same status). id is the engine's
-- cursor for "order status changed to ..." triggers.
CREATE TABLE order_status_history (
  id              INTEGER PRIMARY KEY,
  order_id        TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  previous_status TEXT,
  status          TEXT NOT NULL,
  -- when it happened, from the source when it says so, else when it was recorded
  changed_at      INTEGER NOT NULL,
  recorded_at     INTEGER NOT NULL
);

-- product_id is not a foreign key: exports name products the catalogue file lacks
-- (deleted products, custom line items), and an order's history must still be kept.
CREATE TABLE order_items (
  order_id   TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  line       INTEGER NOT NULL,
  product_id TEXT,
  sku        TEXT,
  title      TEXT,
  quantity   INTEGER NOT NULL,
  price      REAL,
  PRIMARY KEY (order_id, line)
) WITHOUT ROWID;

-- seq is the engine's cursor for "new events since the last tick".
CREATE TABLE events (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  type        TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  properties  TEXT NOT NULL DEFAULT '{}'
);

-- address is normalised: e-mail lower-cased, phone as +digits.
CREATE TABLE suppressions (
  channel    TEXT NOT NULL,
  address    TEXT NOT NULL,
  reason     TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (channel, address)
) WITHOUT ROWID;
`;
