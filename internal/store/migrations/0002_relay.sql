-- 0002_relay: the ingress's own id for a request, and the relay server's buffer.
--
-- ingress_ref is the id the ingress gave a request (for the relay: "<channel>/<seq>"), so that
-- a relay client can tell whether a request it is handed again is already in the log. ALTER
-- TABLE appends the column after the body; it is only ever read through its index, which
-- covers the lookup (the index holds the rowid), so no body page is read for it. Most requests
-- have no ref, hence a partial index; a query must repeat "ingress_ref <> ''" to use it.
ALTER TABLE requests ADD COLUMN ingress_ref TEXT NOT NULL DEFAULT '';

CREATE INDEX requests_ingress_ref ON requests (ingress_ref) WHERE ingress_ref <> '';

-- The relay server's registry of channels. Only a hash of each channel's secret is kept.
CREATE TABLE relay_channels (
    id          TEXT    PRIMARY KEY,
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER
);

-- The relay server's buffer: requests received on a channel and not yet acknowledged by its
-- client as recorded. seq is AUTOINCREMENT so that a number is never reused, even after the
-- newest rows were removed or the relay restarted: clients recognise requests they already
-- have by "<channel>/<seq>". Times are unix nanoseconds; headers are JSON as in requests; the
-- body comes last.
CREATE TABLE relay_requests (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id  TEXT    NOT NULL REFERENCES relay_channels (id) ON DELETE CASCADE,
    received_at INTEGER,
    method      TEXT    NOT NULL DEFAULT '',
    uri         TEXT    NOT NULL DEFAULT '',
    proto       TEXT    NOT NULL DEFAULT '',
    host        TEXT    NOT NULL DEFAULT '',
    remote_addr TEXT    NOT NULL DEFAULT '',
    headers     TEXT    NOT NULL DEFAULT '[]',
    body        BLOB
);

-- A channel's pending requests in arrival order (the drain), and removal by (channel, seq).
CREATE INDEX relay_requests_channel ON relay_requests (channel_id, seq);

-- Expiry of old buffered requests.
CREATE INDEX relay_requests_received_at ON relay_requests (received_at);
