-- srgate schema, version 2: views for reporting.
--
-- Point Grafana, Metabase or psql at these views; they read the tables of version 1
-- (0001_initial.sql) and nothing else, change nothing, and work on an empty database.
-- Give a reporting login SELECT on the views alone:
--
--     CREATE ROLE reports LOGIN PASSWORD '…';
--     GRANT SELECT ON sr_overview, sla_first_response, cse_load, account_srs TO reports;
--
-- Values, as srgate writes them:
--   state         new | open | awaiting_customer | on_hold | closed
--                 ("open" is a state: waiting on the CSE; "not closed" is every state but closed)
--   priority      P1 | P2 | P3 | P4 (upper case, as `sr show` prints them)
--   assignee      the CSE's address in lower case; NULL while nobody is assigned
--   tier          standard | premium; NULL when the customer belongs to no account
--   close_reason  resolved | no_response; NULL while the SR is not closed
--
-- Times are timestamptz (UTC inside; psql shows them in the session's time zone: SET
-- timezone = 'Europe/Paris'). Durations are wall-clock time, not business time, in
-- numeric columns named after their unit. "Now" is the start of the reading transaction.
--
-- Speed: every view reads the table `srs` alone (plus one row by primary key per CSE or
-- account), never the messages or events. A filter on `id`, on `account` or on open SRs
-- uses an index; a whole view, or a report over all SRs (the SLA of the last quarter),
-- reads the table once: about half a second with a million SRs on two cores.

-- One row per SR: where it stands and how it went.
--
--   first_response_minutes  from opening to the first CSE response (NULL: none yet)
--   open_days               not closed: days since it was opened (NULL once closed)
--   resolution_hours        closed: hours from opening to closing (NULL while not closed);
--                           an SR reopened and closed again counts to its last closing
--   is_open                 true for every state but closed
CREATE VIEW sr_overview AS
SELECT
    s.id,
    s.state,
    s.priority,
    s.assignee,
    s.language,
    s.product,
    s.account,
    s.tier,
    s.customer,
    s.subject,
    s.created_at,
    s.updated_at,
    s.first_response_due,
    s.first_response_at,
    s.closed_at,
    s.close_reason,
    s.contact_attempts                                              AS attempts,
    s.reopen_count,
    coalesce((s.facts ->> 'escalated')::boolean, false)             AS escalated,
    coalesce((s.facts ->> 'after_hours')::boolean, false)           AS after_hours,
    s.message_count                                                 AS messages,
    s.state <> 'closed'                                             AS is_open,
    round((extract(epoch FROM s.first_response_at - s.created_at) / 60)::numeric, 1)
                                                                    AS first_response_minutes,
    CASE WHEN s.state <> 'closed' THEN
        round((extract(epoch FROM now() - s.created_at) / 86400)::numeric, 2)
    END                                                             AS open_days,
    CASE WHEN s.state = 'closed' THEN
        round((extract(epoch FROM s.closed_at - s.created_at) / 3600)::numeric, 2)
    END                                                             AS resolution_hours
FROM srs s;

COMMENT ON VIEW sr_overview IS
    'One row per SR: state, priority, assignee, language, product, account, tier, customer, subject, '
    'created, first response, closed, close reason, contact attempts, reopen count, and derived '
    'first_response_minutes, open_days (not closed), resolution_hours (closed).';

-- One row per SR that has a first-response target (first_response_due; SRs stored before
-- targets existed have none and are left out), and how the target went:
--
--   met      the first CSE response came by the target; also an SR closed before its
--            target without needing a response (the customer solved it)
--   missed   the first response came after the target; also an SR closed unanswered
--            after its target had passed
--   overdue  not closed, no response yet, and the target has passed: act now
--   pending  not closed, no response yet, the target is still ahead
--
--   late_minutes     missed: how late the response came (or the closing, when none came);
--                    overdue: how late it is now; met and pending: 0
--   minutes_left     pending: minutes until the target; otherwise NULL
--   response_minutes from opening to the first response (NULL: none)
--
-- Targets are computed by srgate in business time (rules/policy.toml); the minutes here
-- are wall-clock minutes.
CREATE VIEW sla_first_response AS
SELECT
    id,
    priority,
    state,
    assignee,
    account,
    tier,
    created_at,
    target,
    responded_at,
    status,
    CASE
        WHEN status IN ('missed', 'overdue') THEN
            round((extract(epoch FROM coalesce(responded_at, closed_at, now()) - target) / 60)::numeric, 1)
        ELSE 0
    END                                                             AS late_minutes,
    CASE WHEN status = 'pending' THEN
        round((extract(epoch FROM target - now()) / 60)::numeric, 1)
    END                                                             AS minutes_left,
    round((extract(epoch FROM responded_at - created_at) / 60)::numeric, 1)
                                                                    AS response_minutes
FROM (
    SELECT
        s.id,
        s.priority,
        s.state,
        s.assignee,
        s.account,
        s.tier,
        s.created_at,
        s.closed_at,
        s.first_response_due                                        AS target,
        s.first_response_at                                         AS responded_at,
        CASE
            WHEN s.first_response_at IS NOT NULL THEN
                CASE WHEN s.first_response_at <= s.first_response_due THEN 'met' ELSE 'missed' END
            WHEN s.state = 'closed' THEN
                CASE WHEN s.closed_at <= s.first_response_due THEN 'met' ELSE 'missed' END
            WHEN now() > s.first_response_due THEN 'overdue'
            ELSE 'pending'
        END                                                         AS status
    FROM srs s
    WHERE s.first_response_due IS NOT NULL
) AS t;

COMMENT ON VIEW sla_first_response IS
    'One row per SR with a first-response target: status met, missed, overdue (no response, '
    'target passed) or pending (no response, target ahead), late_minutes, minutes_left.';

-- One row per CSE who has an SR not closed or closed one in the last 30 days (CSEs come
-- from the SRs: a CSE of the roster with neither has no row). "Open" here means not
-- closed, as in srgate's least-loaded assignment:
--
--   open_p1 … open_p4      SRs not closed, by priority
--   open_total             SRs not closed
--   waiting_on_cse         of those, in state new or open (the CSE's move)
--   awaiting_customer      of those, waiting on the customer
--   on_hold                of those, on hold
--   oldest_open_id         the CSE's oldest SR not closed (the lowest number: numbers
--   oldest_open_since      come from one sequence as SRs open), and when it was opened
--   closed_7d, closed_30d  SRs closed (and still closed) in the last 7 and 30 days
--
-- SRs that nobody is assigned yet (after hours, waiting for business hours) have no row
-- here; count them with
--   SELECT count(*) FROM sr_overview WHERE is_open AND assignee IS NULL;
CREATE VIEW cse_load AS
WITH per_cse AS (
    SELECT
        s.assignee                                                          AS cse,
        count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'P1')   AS open_p1,
        count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'P2')   AS open_p2,
        count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'P3')   AS open_p3,
        count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'P4')   AS open_p4,
        count(*) FILTER (WHERE s.state <> 'closed')                         AS open_total,
        count(*) FILTER (WHERE s.state IN ('new', 'open'))                  AS waiting_on_cse,
        count(*) FILTER (WHERE s.state = 'awaiting_customer')               AS awaiting_customer,
        count(*) FILTER (WHERE s.state = 'on_hold')                         AS on_hold,
        min(s.id) FILTER (WHERE s.state <> 'closed')                        AS oldest_open_id,
        count(*) FILTER (WHERE s.state = 'closed' AND s.closed_at > now() - interval '7 days')
                                                                            AS closed_7d,
        count(*) FILTER (WHERE s.state = 'closed' AND s.closed_at > now() - interval '30 days')
                                                                            AS closed_30d
    FROM srs s
    WHERE s.assignee IS NOT NULL
      AND (s.state <> 'closed' OR s.closed_at > now() - interval '30 days')
    GROUP BY s.assignee
)
SELECT
    c.cse,
    c.open_p1,
    c.open_p2,
    c.open_p3,
    c.open_p4,
    c.open_total,
    c.waiting_on_cse,
    c.awaiting_customer,
    c.on_hold,
    c.oldest_open_id,
    oldest.created_at                                                       AS oldest_open_since,
    c.closed_7d,
    c.closed_30d
FROM per_cse c
LEFT JOIN srs oldest ON oldest.id = c.oldest_open_id;

COMMENT ON VIEW cse_load IS
    'One row per CSE with SRs not closed or closed in the last 30 days: open SRs by priority and '
    'by who moves next, the oldest open SR, SRs closed in the last 7 and 30 days.';

-- One row per account (SRs of customers in no account are left out): its SRs open and
-- closed, and its tier, so that `GROUP BY tier` over this view gives the figures per tier.
--
--   tier               the tier of the account's latest SR (the highest number; srgate
--                      copies the account's tier onto each SR when it opens)
--   srs                every SR of the account
--   open_total         SRs not closed; open_p1, open_p2: of those, at P1 and P2
--   escalated_open     SRs not closed with an accepted escalation
--   closed             SRs closed
--   oldest_open_since  when the account's oldest SR not closed was opened
--   last_opened        when its latest SR was opened
--
-- A filter on one account (WHERE account = 'ACME') reads that account's SRs only
-- (index srs_account).
CREATE VIEW account_srs AS
WITH per_account AS (
    SELECT
        s.account,
        count(*)                                                            AS srs,
        count(*) FILTER (WHERE s.state <> 'closed')                         AS open_total,
        count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'P1')   AS open_p1,
        count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'P2')   AS open_p2,
        count(*) FILTER (WHERE s.state <> 'closed' AND (s.facts ->> 'escalated')::boolean)
                                                                            AS escalated_open,
        count(*) FILTER (WHERE s.state = 'closed')                          AS closed,
        min(s.created_at) FILTER (WHERE s.state <> 'closed')                AS oldest_open_since,
        max(s.created_at)                                                   AS last_opened,
        max(s.id)                                                           AS latest_id
    FROM srs s
    WHERE s.account IS NOT NULL
    GROUP BY s.account
)
SELECT
    a.account,
    latest.tier,
    a.srs,
    a.open_total,
    a.open_p1,
    a.open_p2,
    a.escalated_open,
    a.closed,
    a.oldest_open_since,
    a.last_opened
FROM per_account a
JOIN srs latest ON latest.id = a.latest_id;

COMMENT ON VIEW account_srs IS
    'One row per account: its tier, SRs in all, not closed (and of those P1, P2, escalated), '
    'closed, the oldest SR not closed, the latest SR opened.';
