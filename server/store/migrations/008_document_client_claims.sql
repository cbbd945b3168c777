-- A user may claim only so many new client ids in a document per window (COLLAB_CLIENT_ID_CLAIMS_MAX per
-- COLLAB_CLIENT_ID_CLAIMS_WINDOW_MS): a claim counts the user's claims since the window's start (claimed_at, 007),
-- which this index serves.
CREATE INDEX document_clients_user_claims ON document_clients (name, user_id, claimed_at);

-- Looks up the owners of `ids` in document `doc` and, when `claim_new`, claims for `claimer` the free ones, in order,
-- as many as its cap leaves room for. One round trip; race-free across instances: the count and the insert run under
-- a transaction-level advisory lock on (document, claimer), and each statement of a VOLATILE function takes a fresh
-- snapshot (READ COMMITTED), so the count sees every claim committed by the lock's previous holder. (Counting inside
-- the INSERT without the lock is not enough: racing claims would each see the count before the others commit.)
-- Returns every owner of the ids, and, when the claimer has reached its cap, the ms until its oldest claim in the
-- window leaves it (null otherwise).
CREATE FUNCTION claim_document_clients(
  doc text, ids bigint[], claimer text, claim_new boolean, max_claims integer, window_ms double precision,
  OUT owner_client_ids bigint[], OUT owner_user_ids text[], OUT capped_for_ms double precision
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  free bigint[];
  recent integer;
  oldest timestamptz;
  claimed integer := 0;
  since timestamptz := now() - window_ms * interval '1 millisecond';
BEGIN
  SELECT array_agg(u.id ORDER BY u.ord) INTO free
    FROM unnest(ids) WITH ORDINALITY AS u(id, ord)
    LEFT JOIN document_clients d ON d.name = doc AND d.client_id = u.id
   WHERE d.client_id IS NULL;
  IF free IS NOT NULL AND claim_new THEN
    PERFORM pg_advisory_xact_lock(hashtext(doc), hashtext(claimer));
    SELECT count(*), min(d.claimed_at) INTO recent, oldest
      FROM document_clients d WHERE d.name = doc AND d.user_id = claimer AND d.claimed_at > since;
    IF recent < max_claims THEN
      INSERT INTO document_clients (name, client_id, user_id)
      SELECT doc, f.id, claimer FROM unnest(free[1:max_claims - recent]) WITH ORDINALITY AS f(id, ord) ORDER BY f.ord
      ON CONFLICT (name, client_id) DO NOTHING;
      GET DIAGNOSTICS claimed = ROW_COUNT;
    END IF;
    IF recent + claimed >= max_claims THEN
      -- No claim in the window before these: the oldest is one of these, a whole window from now.
      capped_for_ms := greatest(0, extract(epoch FROM coalesce(oldest, now()) - since) * 1000);
    END IF;
  END IF;
  SELECT array_agg(d.client_id), array_agg(d.user_id) INTO owner_client_ids, owner_user_ids
    FROM document_clients d WHERE d.name = doc AND d.client_id = ANY(ids);
END;
$$;
