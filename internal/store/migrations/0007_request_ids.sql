-- 0007_request_ids: request ids stay never reused without AUTOINCREMENT.
--
-- A request id is what users type, so an id once given is never given again, even after the
-- newest requests were deleted (by a prune that leaves nothing, or by another program).
-- AUTOINCREMENT guaranteed that by updating sqlite_sequence in every insert: a page more
-- written in every commit. Logs created from this version on have a plain
-- INTEGER PRIMARY KEY (0001), which SQLite fills with max(id) + 1, and keep instead a floor in
-- request_id_floor, at or below which no id is given again: the trigger below raises it to any
-- deleted id above it, and the writer's insert takes floor + 1 as the id when the floor is not
-- below max(id), else lets SQLite choose (insertRequestSQL in store/writer.go): two seeks, no
-- write. Logs created before keep their AUTOINCREMENT too, and their floor starts at their
-- sequence.
CREATE TABLE request_id_floor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    floor INTEGER NOT NULL
);

INSERT INTO request_id_floor (id, floor)
SELECT 1, max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'requests'), 0),
    coalesce((SELECT max(id) FROM requests), 0));

CREATE TRIGGER requests_id_floor AFTER DELETE ON requests
WHEN OLD.id > (SELECT floor FROM request_id_floor WHERE id = 1)
BEGIN
    UPDATE request_id_floor SET floor = OLD.id WHERE id = 1;
END;
