-- 0003_search: full-text search over each request's URI, headers and body (FTS5).
--
-- requests_fts is a contentless FTS5 table (it stores only the index, no copy of the text)
-- whose rowid is requests.id. contentless_delete=1 lets a row be deleted by rowid alone, so the
-- trigger below keeps the index consistent when requests are deleted (prune), whoever deletes
-- them, without reading the deleted text again.
--
-- What is indexed is defined once, by the view requests_fts_source:
--   uri      the request URI as received (path and query);
--   headers  one "Name: value" line per header; a pair stored base64-encoded because it is not
--            valid UTF-8 (see 0001) is left out, and so are headers that are not valid JSON
--            (never written by hookctl, but they must not make an insert or this migration fail);
--   body     the first MiB of the body, as text. A body holding a NUL byte within that MiB is
--            taken for binary (images, gzip, protobuf with zeros, UTF-16) and not indexed; any
--            other body is indexed as if it were UTF-8, and the tokenizer reads invalid bytes
--            lossily (as U+FFFD or a Latin-1 code point), so "caf\xe9" is found as "caf".
-- The tokenizer folds case and diacritics (unicode61 remove_diacritics 2) and splits on every
-- character that is not a letter, a digit or private use, so that "payment_intent.succeeded"
-- is the three tokens payment, intent, succeeded.
--
-- Only requests inserted through the Store's writer (AddRequest, AddRequestRef, Seed) are
-- indexed; the triggers keep the index right when requests are deleted or updated by anyone.
-- The writer fills the index in the transaction that inserts the requests, with one
-- INSERT ... SELECT FROM requests_fts_source per transaction rather than a trigger per row:
-- FTS5 flushes its pending terms to a new segment at every statement of a transaction, so a
-- per-row trigger would write (and later merge) one segment per request.

CREATE VIRTUAL TABLE requests_fts USING fts5(
    uri, headers, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE VIEW requests_fts_source (id, uri, headers, body) AS
SELECT
    r.id,
    r.uri,
    (SELECT group_concat((h.value ->> 0) || ': ' || (h.value ->> 1), char(10))
        FROM json_each(CASE WHEN json_valid(r.headers) THEN r.headers END) h WHERE json_array_length(h.value) = 2),
    CASE WHEN instr(substr(r.body, 1, 1048576), X'00') = 0 THEN CAST(substr(r.body, 1, 1048576) AS TEXT) END
FROM requests r;

CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN
    DELETE FROM requests_fts WHERE rowid = OLD.id;
END;

CREATE TRIGGER requests_fts_update AFTER UPDATE OF id, uri, headers, body ON requests BEGIN
    DELETE FROM requests_fts WHERE rowid = OLD.id;
    INSERT INTO requests_fts (rowid, uri, headers, body)
        SELECT id, uri, headers, body FROM requests_fts_source WHERE id = NEW.id;
END;

-- Backfill: index the requests already in the log.
INSERT INTO requests_fts (rowid, uri, headers, body)
    SELECT id, uri, headers, body FROM requests_fts_source;
