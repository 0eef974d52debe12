-- Checks the reporting views of migrations/0002_views.sql on a database at schema
-- version 2 (0001 and 0002 applied, by `srgate migrate` or psql).
--
--     psql -v ON_ERROR_STOP=1 -d DATABASE -f tests/sql/views_check.sql
--
-- Plain SQL, no psql meta-commands, so it can also be sent whole (`psql -c "$(cat …)"`).
-- It runs in one transaction and rolls it back: the database is left as it was. It may
-- run on a database that already holds SRs: its SRs have numbers from 990000004, its CSEs
-- and accounts names of their own, and every check looks at those only. A failed check
-- raises an exception naming the view, the SR or CSE or account, the column, the value
-- found and the value expected.
--
-- Times are relative to now(), which stays the same for the whole transaction, so every
-- status and every duration below is exact.

BEGIN;
SET LOCAL timezone = 'UTC';

-- got vs want, compared as text (numeric values print as the views round them).
CREATE FUNCTION pg_temp.expect(what text, got text, want text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'views_check: %: got %, expected %', what, coalesce(got, 'NULL'), coalesce(want, 'NULL');
    END IF;
END
$$;

-- On an empty database (or with none of the fixtures yet) every view answers, and
-- answers nothing about the fixtures.
DO $$
BEGIN
    PERFORM count(*) FROM sr_overview;
    PERFORM count(*) FROM sla_first_response;
    PERFORM count(*) FROM cse_load;
    PERFORM count(*) FROM account_srs;
    PERFORM pg_temp.expect('sr_overview before the fixtures: rows',
        (SELECT count(*) FROM sr_overview WHERE id > 990000000)::text, '0');
    PERFORM pg_temp.expect('cse_load before the fixtures: rows',
        (SELECT count(*) FROM cse_load WHERE cse LIKE '%@views-check.test')::text, '0');
    PERFORM pg_temp.expect('account_srs before the fixtures: rows',
        (SELECT count(*) FROM account_srs WHERE account LIKE 'Views Check %')::text, '0');
END
$$;

-- The fixtures: one SR for each way an SR can stand. Columns as srgate writes them
-- (state and priority by their serde names, assignee in lower case); numbers grow as
-- the SRs were opened, as they do from srgate's sequence.
--
--   SR         state              prio CSE    account       first response          closed
--   990000001  closed             P4   b      -             none, target 38 d ago   35 days ago
--   990000002  on_hold            P4   b      Globex prem.  1 day, no target        - (reopened once)
--   990000003  closed             P2   a      Acme premium  6 h, target 4 h         10 days ago, no_response
--   990000004  closed             P1   a      Acme premium  30 min, target 1 h      3 days ago, resolved
--   990000005  open               P2   c      -             2 h, target 4 h         - (closed once, reopened)
--   990000006  awaiting_customer  P2   a      Globex std    1 h, target 4 h         -
--   990000007  closed             P3   b      -             none, target later      4.5 days ago, before target
--   990000008  new                P1   b      Globex std    none, target 2 h ago    - (escalated)
--   990000009  new                P3   a      Acme premium  none, target in 5 h     -
--   990000010  new                P3   none   Acme premium  none, target in 20 h    - (after hours)
INSERT INTO srs (id, state, priority, assignee, customer, language, product, account, tier, subject,
                 created_at, updated_at, first_response_due, first_response_at, closed_at, close_reason,
                 contact_attempts, reopen_count, facts, message_count, event_count)
VALUES
    (990000001, 'closed', 'P4', 'cse-b@views-check.test', 'eve@example.test', 'en', NULL, NULL, NULL,
     'Docs', now() - interval '40 days', now() - interval '35 days',
     now() - interval '38 days', NULL, now() - interval '35 days', 'resolved', 0, 0, '{}', 3, 3),
    (990000002, 'on_hold', 'P4', 'cse-b@views-check.test', 'fay@globex.test', 'en', NULL, 'Views Check Globex', 'premium',
     'Feature request', now() - interval '30 days', now() - interval '2 days',
     NULL, now() - interval '29 days', NULL, NULL, 0, 1, '{"escalated": false, "after_hours": false}', 7, 9),
    (990000003, 'closed', 'P2', 'cse-a@views-check.test', 'bob@acme.test', 'en', 'cloud', 'Views Check Acme', 'premium',
     'Slow sync', now() - interval '20 days', now() - interval '10 days',
     now() - interval '20 days' + interval '4 hours', now() - interval '20 days' + interval '6 hours',
     now() - interval '10 days', 'no_response', 3, 0, '{"escalated": false, "after_hours": false}', 6, 8),
    (990000004, 'closed', 'P1', 'cse-a@views-check.test', 'ann@acme.test', 'en', 'network', 'Views Check Acme', 'premium',
     'VPN down', now() - interval '10 days', now() - interval '3 days',
     now() - interval '10 days' + interval '1 hour', now() - interval '10 days' + interval '30 minutes',
     now() - interval '3 days', 'resolved', 0, 0, '{"escalated": false, "after_hours": false}', 4, 5),
    (990000005, 'open', 'P2', 'cse-c@views-check.test', 'hal@example.test', 'it', NULL, NULL, NULL,
     'Errore', now() - interval '8 days', now() - interval '4 days',
     now() - interval '8 days' + interval '4 hours', now() - interval '8 days' + interval '2 hours',
     NULL, NULL, 0, 1, '{}', 6, 7),
    (990000006, 'awaiting_customer', 'P2', 'cse-a@views-check.test', 'carl@globex.test', 'en', 'cloud', 'Views Check Globex', 'standard',
     'Backup fails', now() - interval '6 days', now() - interval '1 day',
     now() - interval '6 days' + interval '4 hours', now() - interval '6 days' + interval '1 hour',
     NULL, NULL, 2, 0, '{"escalated": false, "after_hours": false}', 5, 6),
    (990000007, 'closed', 'P3', 'cse-b@views-check.test', 'dana@example.test', 'de', NULL, NULL, NULL,
     'Frage', now() - interval '5 days', now() - interval '108 hours',
     now() - interval '4 days', NULL, now() - interval '108 hours', 'resolved', 0, 0, '{"escalated": false}', 3, 3),
    (990000008, 'new', 'P1', 'cse-b@views-check.test', 'carl@globex.test', 'en', 'network', 'Views Check Globex', 'standard',
     'Outage', now() - interval '3 hours', now() - interval '1 hour',
     now() - interval '2 hours', NULL, NULL, NULL, 0, 0, '{"escalated": true, "after_hours": false}', 5, 4),
    (990000009, 'new', 'P3', 'cse-a@views-check.test', 'ann@acme.test', 'fr', 'endpoint', 'Views Check Acme', 'premium',
     'Licence', now() - interval '2 hours', now() - interval '2 hours',
     now() + interval '5 hours', NULL, NULL, NULL, 0, 0, '{"escalated": false, "after_hours": false}', 2, 2),
    (990000010, 'new', 'P3', NULL, 'gus@acme.test', 'en', NULL, 'Views Check Acme', 'premium',
     'Question', now() - interval '1 hour', now() - interval '1 hour',
     now() + interval '20 hours', NULL, NULL, NULL, 0, 0, '{"escalated": false, "after_hours": true}', 2, 1);

-- sr_overview: one row per SR, the copied columns and the derived ones.
DO $$
DECLARE
    r record;
BEGIN
    PERFORM pg_temp.expect('sr_overview: rows', (SELECT count(*) FROM sr_overview WHERE id > 990000000)::text, '10');

    SELECT * INTO r FROM sr_overview WHERE id = 990000004;
    PERFORM pg_temp.expect('sr_overview 990000004 state', r.state, 'closed');
    PERFORM pg_temp.expect('sr_overview 990000004 priority', r.priority, 'P1');
    PERFORM pg_temp.expect('sr_overview 990000004 assignee', r.assignee, 'cse-a@views-check.test');
    PERFORM pg_temp.expect('sr_overview 990000004 tier', r.tier, 'premium');
    PERFORM pg_temp.expect('sr_overview 990000004 close_reason', r.close_reason, 'resolved');
    PERFORM pg_temp.expect('sr_overview 990000004 is_open', r.is_open::text, 'false');
    PERFORM pg_temp.expect('sr_overview 990000004 first_response_minutes', r.first_response_minutes::text, '30.0');
    PERFORM pg_temp.expect('sr_overview 990000004 resolution_hours', r.resolution_hours::text, '168.00');
    PERFORM pg_temp.expect('sr_overview 990000004 open_days', r.open_days::text, NULL);
    PERFORM pg_temp.expect('sr_overview 990000004 messages', r.messages::text, '4');

    SELECT * INTO r FROM sr_overview WHERE id = 990000003;
    PERFORM pg_temp.expect('sr_overview 990000003 attempts', r.attempts::text, '3');
    PERFORM pg_temp.expect('sr_overview 990000003 close_reason', r.close_reason, 'no_response');
    PERFORM pg_temp.expect('sr_overview 990000003 first_response_minutes', r.first_response_minutes::text, '360.0');
    PERFORM pg_temp.expect('sr_overview 990000003 resolution_hours', r.resolution_hours::text, '240.00');

    SELECT * INTO r FROM sr_overview WHERE id = 990000009;
    PERFORM pg_temp.expect('sr_overview 990000009 is_open', r.is_open::text, 'true');
    PERFORM pg_temp.expect('sr_overview 990000009 open_days', r.open_days::text, '0.08');
    PERFORM pg_temp.expect('sr_overview 990000009 resolution_hours', r.resolution_hours::text, NULL);
    PERFORM pg_temp.expect('sr_overview 990000009 first_response_minutes', r.first_response_minutes::text, NULL);
    PERFORM pg_temp.expect('sr_overview 990000009 language', r.language, 'fr');

    SELECT * INTO r FROM sr_overview WHERE id = 990000008;
    PERFORM pg_temp.expect('sr_overview 990000008 escalated', r.escalated::text, 'true');

    SELECT * INTO r FROM sr_overview WHERE id = 990000001;
    PERFORM pg_temp.expect('sr_overview 990000001 escalated (not in the facts)', r.escalated::text, 'false');

    SELECT * INTO r FROM sr_overview WHERE id = 990000002;
    PERFORM pg_temp.expect('sr_overview 990000002 reopen_count', r.reopen_count::text, '1');
    PERFORM pg_temp.expect('sr_overview 990000002 open_days', r.open_days::text, '30.00');

    SELECT * INTO r FROM sr_overview WHERE id = 990000010;
    PERFORM pg_temp.expect('sr_overview 990000010 assignee', r.assignee, NULL);
    PERFORM pg_temp.expect('sr_overview 990000010 after_hours', r.after_hours::text, 'true');

    PERFORM pg_temp.expect('sr_overview: open and unassigned',
        (SELECT string_agg(id::text, ',') FROM sr_overview WHERE id > 990000000 AND is_open AND assignee IS NULL), '990000010');
END
$$;

-- sla_first_response: met, missed, overdue, pending, and how late.
DO $$
DECLARE
    r record;
BEGIN
    PERFORM pg_temp.expect('sla_first_response: rows (990000002 has no target)',
        (SELECT string_agg(id::text, ',' ORDER BY id) FROM sla_first_response WHERE id > 990000000),
        '990000001,990000003,990000004,990000005,990000006,990000007,990000008,990000009,990000010');
    PERFORM pg_temp.expect('sla_first_response: statuses',
        (SELECT string_agg(id - 990000000 || '=' || status, ' ' ORDER BY id) FROM sla_first_response WHERE id > 990000000),
        '1=missed 3=missed 4=met 5=met 6=met 7=met 8=overdue 9=pending 10=pending');

    SELECT * INTO r FROM sla_first_response WHERE id = 990000004;
    PERFORM pg_temp.expect('sla_first_response 990000004 target', r.target::text, (now() - interval '10 days' + interval '1 hour')::text);
    PERFORM pg_temp.expect('sla_first_response 990000004 late_minutes', r.late_minutes::text, '0');
    PERFORM pg_temp.expect('sla_first_response 990000004 response_minutes', r.response_minutes::text, '30.0');
    PERFORM pg_temp.expect('sla_first_response 990000004 minutes_left', r.minutes_left::text, NULL);

    SELECT * INTO r FROM sla_first_response WHERE id = 990000003;
    PERFORM pg_temp.expect('sla_first_response 990000003 late_minutes (answered 2 h late)', r.late_minutes::text, '120.0');

    SELECT * INTO r FROM sla_first_response WHERE id = 990000009;
    PERFORM pg_temp.expect('sla_first_response 990000009 minutes_left', r.minutes_left::text, '300.0');
    PERFORM pg_temp.expect('sla_first_response 990000009 late_minutes', r.late_minutes::text, '0');
    PERFORM pg_temp.expect('sla_first_response 990000009 responded_at', r.responded_at::text, NULL);

    SELECT * INTO r FROM sla_first_response WHERE id = 990000008;
    PERFORM pg_temp.expect('sla_first_response 990000008 late_minutes (2 h past, no answer)', r.late_minutes::text, '120.0');
    PERFORM pg_temp.expect('sla_first_response 990000008 minutes_left', r.minutes_left::text, NULL);

    SELECT * INTO r FROM sla_first_response WHERE id = 990000001;
    PERFORM pg_temp.expect('sla_first_response 990000001 late_minutes (closed unanswered 3 days past)', r.late_minutes::text, '4320.0');
END
$$;

-- cse_load: one row per CSE with SRs not closed or closed lately.
DO $$
BEGIN
    PERFORM pg_temp.expect('cse_load: rows',
        (SELECT string_agg(cse, ',' ORDER BY cse) FROM cse_load WHERE cse LIKE '%@views-check.test'),
        'cse-a@views-check.test,cse-b@views-check.test,cse-c@views-check.test');
    PERFORM pg_temp.expect('cse_load: no row for unassigned SRs',
        (SELECT count(*) FROM cse_load WHERE cse IS NULL)::text, '0');
    -- p1 p2 p3 p4 total waiting_on_cse awaiting_customer on_hold oldest_open_id closed_7d closed_30d
    PERFORM pg_temp.expect('cse_load cse-a',
        (SELECT concat_ws(' ', open_p1, open_p2, open_p3, open_p4, open_total, waiting_on_cse, awaiting_customer,
                          on_hold, oldest_open_id, closed_7d, closed_30d)
         FROM cse_load WHERE cse = 'cse-a@views-check.test'),
        '0 1 1 0 2 1 1 0 990000006 1 2');
    PERFORM pg_temp.expect('cse_load cse-b',
        (SELECT concat_ws(' ', open_p1, open_p2, open_p3, open_p4, open_total, waiting_on_cse, awaiting_customer,
                          on_hold, oldest_open_id, closed_7d, closed_30d)
         FROM cse_load WHERE cse = 'cse-b@views-check.test'),
        '1 0 0 1 2 1 0 1 990000002 1 1');
    PERFORM pg_temp.expect('cse_load cse-c (its closing was undone by a reopening)',
        (SELECT concat_ws(' ', open_p1, open_p2, open_p3, open_p4, open_total, waiting_on_cse, awaiting_customer,
                          on_hold, oldest_open_id, closed_7d, closed_30d)
         FROM cse_load WHERE cse = 'cse-c@views-check.test'),
        '0 1 0 0 1 1 0 0 990000005 0 0');
    PERFORM pg_temp.expect('cse_load cse-a oldest_open_since',
        (SELECT oldest_open_since FROM cse_load WHERE cse = 'cse-a@views-check.test')::text,
        (now() - interval '6 days')::text);
    PERFORM pg_temp.expect('cse_load cse-b oldest_open_since',
        (SELECT oldest_open_since FROM cse_load WHERE cse = 'cse-b@views-check.test')::text,
        (now() - interval '30 days')::text);
END
$$;

-- account_srs: one row per account, its tier the latest SR's.
DO $$
BEGIN
    PERFORM pg_temp.expect('account_srs: rows',
        (SELECT string_agg(account, ',' ORDER BY account) FROM account_srs WHERE account LIKE 'Views Check %'),
        'Views Check Acme,Views Check Globex');
    -- tier srs open_total open_p1 open_p2 closed escalated_open
    PERFORM pg_temp.expect('account_srs Acme',
        (SELECT concat_ws(' ', tier, srs, open_total, open_p1, open_p2, closed, escalated_open)
         FROM account_srs WHERE account = 'Views Check Acme'),
        'premium 4 2 0 0 2 0');
    PERFORM pg_temp.expect('account_srs Globex (premium once, standard now)',
        (SELECT concat_ws(' ', tier, srs, open_total, open_p1, open_p2, closed, escalated_open)
         FROM account_srs WHERE account = 'Views Check Globex'),
        'standard 3 3 1 1 0 1');
    PERFORM pg_temp.expect('account_srs Acme oldest_open_since',
        (SELECT oldest_open_since FROM account_srs WHERE account = 'Views Check Acme')::text,
        (now() - interval '2 hours')::text);
    PERFORM pg_temp.expect('account_srs Acme last_opened',
        (SELECT last_opened FROM account_srs WHERE account = 'Views Check Acme')::text,
        (now() - interval '1 hour')::text);
END
$$;

DO $$
BEGIN
    RAISE NOTICE 'views_check: sr_overview, sla_first_response, cse_load and account_srs are as expected';
END
$$;

ROLLBACK;
