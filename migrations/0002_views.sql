-- srgate schema, version 2: views for reporting.
--
-- Point Grafana, Metabase or psql at these; they read only the tables of version 1 and
-- change nothing. States: new, open, awaiting_customer, on_hold, closed. Priorities: p1 … p4.
-- Times are timestamptz (UTC inside; psql shows them in the session's time zone).

-- One row per SR: where it stands and how it went.
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
    s.first_response_due,
    s.first_response_at,
    s.closed_at,
    s.close_reason,
    s.contact_attempts                                          AS attempts,
    s.reopen_count,
    (s.facts ->> 'escalated')::boolean                           AS escalated,
    (s.facts ->> 'after_hours')::boolean                         AS after_hours,
    s.message_count                                              AS messages,
    round(extract(epoch FROM s.first_response_at - s.created_at) / 60.0, 1) AS first_response_minutes,
    round(extract(epoch FROM coalesce(s.closed_at, now()) - s.created_at) / 86400.0, 2) AS age_days
FROM srs s;

COMMENT ON VIEW sr_overview IS
    'One row per SR: state, priority, assignee, language, product, account, tier, created, first response, closed, close reason, contact attempts, reopen count.';

-- One row per SR with a first-response target: met, missed, overdue (no response yet and
-- past the target) or pending (no response yet, target still ahead).
CREATE VIEW sla_first_response AS
SELECT
    s.id,
    s.priority,
    s.assignee,
    s.account,
    s.tier,
    s.created_at,
    s.first_response_due                                         AS target,
    s.first_response_at                                          AS responded_at,
    CASE
        WHEN s.first_response_at IS NOT NULL AND s.first_response_at <= s.first_response_due THEN 'met'
        WHEN s.first_response_at IS NOT NULL THEN 'missed'
        WHEN now() > s.first_response_due THEN 'overdue'
        ELSE 'pending'
    END                                                          AS status,
    round(extract(epoch FROM greatest(coalesce(s.first_response_at, now()) - s.first_response_due, interval '0')) / 60.0, 1)
                                                                 AS late_minutes
FROM srs s
WHERE s.first_response_due IS NOT NULL;

COMMENT ON VIEW sla_first_response IS
    'First-response target per SR: met, missed, overdue or pending, and by how many minutes it was (or is) late.';

-- One row per CSE who has SRs: open SRs by priority, the oldest open one, and the SRs
-- closed in the last 7 and 30 days.
CREATE VIEW cse_load AS
SELECT
    s.assignee                                                            AS cse,
    count(*) FILTER (WHERE s.state <> 'closed')                           AS open,
    count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'p1')     AS open_p1,
    count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'p2')     AS open_p2,
    count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'p3')     AS open_p3,
    count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'p4')     AS open_p4,
    count(*) FILTER (WHERE s.state = 'awaiting_customer')                 AS awaiting_customer,
    count(*) FILTER (WHERE s.state = 'on_hold')                           AS on_hold,
    min(s.created_at) FILTER (WHERE s.state <> 'closed')                  AS oldest_open_since,
    count(*) FILTER (WHERE s.closed_at > now() - interval '7 days')       AS closed_7d,
    count(*) FILTER (WHERE s.closed_at > now() - interval '30 days')      AS closed_30d
FROM srs s
WHERE s.assignee IS NOT NULL
GROUP BY s.assignee;

COMMENT ON VIEW cse_load IS
    'Per CSE: open SRs by priority, waiting and on-hold SRs, the oldest open SR, SRs closed in the last 7 and 30 days.';

-- One row per account: its SRs, open and closed, and its tier.
CREATE VIEW account_srs AS
SELECT
    s.account,
    max(s.tier)                                                           AS tier,
    count(*)                                                              AS srs,
    count(*) FILTER (WHERE s.state <> 'closed')                           AS open,
    count(*) FILTER (WHERE s.state = 'closed')                            AS closed,
    count(*) FILTER (WHERE s.state <> 'closed' AND s.priority = 'p1')     AS open_p1,
    max(s.created_at)                                                     AS last_opened
FROM srs s
WHERE s.account IS NOT NULL
GROUP BY s.account;

COMMENT ON VIEW account_srs IS 'Per account: SRs in all, open, closed, open P1s, the latest one opened.';
