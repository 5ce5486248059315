-- 0005_search_tail: the full-text index is filled after the requests are committed, not in the
-- same transaction, so that indexing stays off the path a request waits on.
--
-- search_state.indexed_to is the highest request id whose index entries are committed: the
-- requests above it (the tail) are in the log but not yet in requests_fts. The writer indexes
-- the tail, in id order, whenever it has nothing else to do and before every search; a store
-- without a writer indexes it on its own before a search. Every request up to now was indexed
-- in its own transaction (0003), so the tail starts empty.
CREATE TABLE search_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_to INTEGER NOT NULL
);

INSERT INTO search_state (id, indexed_to) SELECT 1, coalesce(max(id), 0) FROM requests;
