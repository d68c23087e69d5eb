-- llm_claim as in 0015, except that a reply with no waiting place in the queue gets ahead = -1
-- instead of the count of all waiting replies, so its waiter can take a place again.
CREATE OR REPLACE FUNCTION llm_claim(p_message_id text, p_servers jsonb)
RETURNS TABLE (server text, ahead int)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  free jsonb := '{}'::jsonb;
  s jsonb;
  w record;
  best text;
  best_free int;
  cand_free int;
  running int;
  v_ahead int := 0;
BEGIN
  -- Serialises claims (not waits): the same lock number as before.
  PERFORM pg_advisory_xact_lock(7401338);
  FOR s IN SELECT value FROM jsonb_array_elements(p_servers) LOOP
    SELECT count(*) INTO running FROM llm_queue q
      WHERE q.server = s->>'url' AND q.finished_at IS NULL AND q.lease_until > now();
    free := free || jsonb_build_object(s->>'url', greatest(0, (s->>'capacity')::int - running));
  END LOOP;
  -- Each user's first waiting reply before anyone's second; among equals, the user served least
  -- recently (never first), then the earliest.
  FOR w IN
    SELECT q.message_id, q.model,
           row_number() OVER (PARTITION BY q.user_id ORDER BY q.enqueued_at, q.message_id) AS turn,
           (SELECT max(x.started_at) FROM llm_queue x WHERE x.user_id = q.user_id) AS last_served,
           q.enqueued_at
    FROM llm_queue q WHERE q.server IS NULL AND q.lease_until > now()
    ORDER BY turn, last_served NULLS FIRST, q.enqueued_at, q.message_id
  LOOP
    -- The server with the most room that has the reply's model (the first such in order on a tie).
    best := NULL;
    best_free := 0;
    FOR s IN SELECT value FROM jsonb_array_elements(p_servers) LOOP
      cand_free := (free->>(s->>'url'))::int;
      IF cand_free > best_free AND (jsonb_typeof(s->'models') <> 'array' OR s->'models' ? w.model) THEN
        best := s->>'url';
        best_free := cand_free;
      END IF;
    END LOOP;
    IF w.message_id = p_message_id THEN
      IF best IS NOT NULL THEN
        UPDATE llm_queue SET server = best, started_at = now() WHERE message_id = p_message_id;
        PERFORM pg_notify('af_queue', 'started');
      END IF;
      RETURN QUERY SELECT best, v_ahead;
      RETURN;
    END IF;
    IF best IS NOT NULL THEN
      free := jsonb_set(free, ARRAY[best], to_jsonb(best_free - 1));
    END IF;
    v_ahead := v_ahead + 1;
  END LOOP;
  -- Not waiting at all (its place was given back or its lease ran out): -1 tells the waiter to
  -- take a place again rather than wait for a turn that will never come.
  RETURN QUERY SELECT NULL::text, -1;
END $$;
