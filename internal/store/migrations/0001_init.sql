-- 0001_init: the request log.
--
-- Times are unix nanoseconds (NULL for a zero time.Time), durations are nanoseconds.
-- Headers are JSON text: an array of [name, value] pairs in the order received, names in the
-- case received, one pair per header line. A pair whose name or value is not valid UTF-8 is
-- stored as [base64(name), base64(value), "base64"] so that its bytes survive exactly.
--
-- Column order matters: the columns a list needs come first and the bodies last, so that
-- listing reads only the local part of each row and never follows a body's (or a large
-- header block's) overflow pages.
--
-- Logs created before 0007 declared the id INTEGER PRIMARY KEY AUTOINCREMENT; 0007 keeps ids
-- from being reused without it.

CREATE TABLE requests (
    id               INTEGER PRIMARY KEY, -- never reused, even after a prune (0007)
    received_at      INTEGER,
    method           TEXT    NOT NULL DEFAULT '',
    uri              TEXT    NOT NULL DEFAULT '',
    provider         TEXT    NOT NULL DEFAULT '',
    event_type       TEXT    NOT NULL DEFAULT '',
    signature        TEXT    NOT NULL DEFAULT 'unchecked',
    body_size        INTEGER NOT NULL DEFAULT 0,
    rejected         TEXT    NOT NULL DEFAULT '',
    proto            TEXT    NOT NULL DEFAULT '',
    host             TEXT    NOT NULL DEFAULT '',
    remote_addr      TEXT    NOT NULL DEFAULT '',
    ingress          TEXT    NOT NULL DEFAULT '',
    delivery_id      TEXT    NOT NULL DEFAULT '',
    signature_reason TEXT    NOT NULL DEFAULT '',
    headers          TEXT    NOT NULL DEFAULT '[]',
    body             BLOB
);

-- Small, append-mostly index: time-range filters and prune --older-than, and a compact b-tree
-- for count(*).
CREATE INDEX requests_received_at ON requests (received_at);

-- Redelivery detection: look a provider's delivery id up without scanning the log.
CREATE INDEX requests_delivery_id ON requests (provider, delivery_id) WHERE delivery_id <> '';

CREATE TABLE attempts (
    id                 INTEGER PRIMARY KEY,
    request_id         INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    kind               TEXT    NOT NULL,
    target             TEXT    NOT NULL DEFAULT '',
    started_at         INTEGER,
    duration           INTEGER NOT NULL DEFAULT 0,
    status             INTEGER NOT NULL DEFAULT 0,
    error              TEXT    NOT NULL DEFAULT '',
    response_body_size INTEGER NOT NULL DEFAULT 0,
    response_headers   TEXT    NOT NULL DEFAULT '[]',
    response_body      BLOB
);

-- A request's attempts in order, its latest attempt (max(id)) and their count, all from the
-- index; also what ON DELETE CASCADE uses.
CREATE INDEX attempts_request ON attempts (request_id, id);
