-- srgate schema, version 3: the checks of a commit, run by the server.
--
-- A gateway sends the statements of a commit and its COMMIT together, without waiting
-- for each answer (one round trip per mail). What must hold for the commit to stand
-- (the mailbox's lease is still this gateway's, the SR is still the one the decision
-- read, the SR number and the dedupe key are still free) is checked by statements in
-- the same transaction that call srgate_require: a check that fails raises, the
-- transaction is aborted, the COMMIT that follows rolls it back, and the gateway reads
-- the refusal from the error's code:
--   SRGC1  another gateway changed what the decision read (the mail is decided again)
--   SRGF1  another gateway holds the mailbox's lease now (the gateway stops reading it)

CREATE FUNCTION srgate_require(ok boolean, code text, refusal text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = refusal;
    END IF;
END
$$;

COMMENT ON FUNCTION srgate_require(boolean, text, text) IS
    'Raises SQLSTATE code with message refusal unless ok: a commit''s check (see migrations/0003_commit_checks.sql).';
