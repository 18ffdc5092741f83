-- PgVideoChat schema, version 2: presence follows connections per statement instead of per row.
--
-- A relay deletes the rows of many closed sockets in one statement (group commit), so the trigger works on the
-- statement's transition table: it locks each affected user's presence row once, in user order (two relays'
-- batches cannot deadlock), then recomputes those users' state and updates only the rows that changed (a second
-- tab of a user who is already online writes nothing to presence, and nothing is published).
--
-- The state is computed after the lock, in a new snapshot (read committed: each statement of the function takes
-- one), so every transaction that changed a user's connections before us has committed and is seen: a connect and
-- a disconnect of the same user racing each other leave presence right. (Version 1 computed it before waiting for
-- the lock and could leave a connected user offline.)

DROP TRIGGER connections_presence ON connections;
DROP FUNCTION presence_follow_connections();

CREATE FUNCTION presence_follow_connections() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A user's first connection ever creates the row (online); the others are locked, in user order.
    INSERT INTO presence AS p (user_id, display_name, online)
    SELECT u.id, u.display_name, TG_OP = 'INSERT' FROM users u
    WHERE u.id IN (SELECT user_id FROM changed)
    ORDER BY u.id
    ON CONFLICT (user_id) DO UPDATE SET online = p.online WHERE false;

    UPDATE presence p
    SET online = s.online, display_name = u.display_name, updated_at = now()
    FROM (SELECT a.user_id, EXISTS (SELECT 1 FROM connections c WHERE c.user_id = a.user_id) AS online
          FROM (SELECT DISTINCT user_id FROM changed) a) s
    JOIN users u ON u.id = s.user_id
    WHERE p.user_id = s.user_id AND p.online IS DISTINCT FROM s.online;
    RETURN NULL;
END $$;

CREATE TRIGGER connections_presence_insert AFTER INSERT ON connections
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION presence_follow_connections();
CREATE TRIGGER connections_presence_delete AFTER DELETE ON connections
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION presence_follow_connections();
