-- 0004_delivery: redelivery detection and the background delivery queue (listen --ack).
--
-- body_hash is the SHA-256 of a request's method, URI and body, kept for requests that carry
-- no delivery id of their provider's: a redelivery of one of those is recognised by the same
-- hash within a time window. Like ingress_ref (0002), ALTER TABLE appends it after the body
-- and it is read only through its index, which also holds received_at for the window.
ALTER TABLE requests ADD COLUMN body_hash BLOB;

CREATE INDEX requests_body_hash ON requests (body_hash, received_at) WHERE body_hash IS NOT NULL;

-- A redelivery of an event already in the log: request_id is the redelivery, original_id the
-- first request of the event. Few requests are redeliveries, hence a table of its own rather
-- than a column that every row would carry; a list looks each row up by its primary key.
-- original_id is not a foreign key: the original may be pruned while its redeliveries stay.
CREATE TABLE duplicates (
    request_id  INTEGER PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    original_id INTEGER NOT NULL
);

-- The background delivery of a request received with listen --ack: one row per queued request,
-- committed in the transaction that records the request, so that an acknowledged request is
-- always either delivered or still queued. target is the base URL it is delivered to (the
-- request URI is appended); state is pending, delivered or given_up; attempts counts the
-- attempts made; next_at is when a pending delivery is due; first_at is when it was queued,
-- from which the give-up deadline counts. Times are unix nanoseconds.
CREATE TABLE deliveries (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    target     TEXT    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    first_at   INTEGER,
    next_at    INTEGER,
    updated_at INTEGER
);

-- A target's pending deliveries in arrival order (ordered delivery), and by due time
-- (unordered delivery).
CREATE INDEX deliveries_pending ON deliveries (target, request_id) WHERE state = 'pending';
CREATE INDEX deliveries_due ON deliveries (target, next_at, request_id) WHERE state = 'pending';
