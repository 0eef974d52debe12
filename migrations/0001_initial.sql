-- srgate schema, version 1: the tables of the PostgreSQL store.
--
-- Applied by `srgate migrate` in one transaction, recorded in srgate_schema. A gateway
-- refuses to start on a schema whose version it does not know. The SR's facts are kept
-- whole in `srs.facts` (JSON, exactly as srgate reads them back); the columns beside
-- them are copies for people, indexes and the views of 0002_views.sql.

CREATE TABLE srgate_meta (
    key   text PRIMARY KEY,           -- instance, rr, digest_day
    value text NOT NULL
);

-- SR numbers: one sequence for every gateway. A number a gateway reserved and did not
-- use (it stopped first) is a gap, never a duplicate.
CREATE SEQUENCE sr_number START 100001;

CREATE TABLE srs (
    id                 bigint PRIMARY KEY,
    state              text NOT NULL,
    priority           text NOT NULL,
    assignee           text,                  -- lower case; NULL: not assigned
    customer           text NOT NULL,
    language           text NOT NULL,
    product            text,
    account            text,
    tier               text,
    subject            text NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    first_response_due timestamptz,
    first_response_at  timestamptz,
    closed_at          timestamptz,
    close_reason       text,
    contact_attempts   integer NOT NULL,
    reopen_count       integer NOT NULL,
    facts              jsonb NOT NULL,        -- the SR without its messages and events
    message_count      integer NOT NULL,
    event_count        integer NOT NULL,
    wake_at            timestamptz,           -- when the SR next needs a gateway
    wake_claimed_by    text,                  -- the gateway doing that work …
    wake_claimed_until timestamptz            -- … until then (extended while it lives)
);
CREATE INDEX srs_open_by_assignee ON srs (coalesce(assignee, ''), id) WHERE state <> 'closed';
CREATE INDEX srs_wake ON srs (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX srs_account ON srs (account) WHERE account IS NOT NULL;
CREATE INDEX srs_customer ON srs (customer);
CREATE INDEX srs_wake_claims ON srs (wake_claimed_by) WHERE wake_claimed_by IS NOT NULL;

CREATE TABLE messages (
    sr           bigint NOT NULL REFERENCES srs (id),
    n            integer NOT NULL,            -- 0, 1, 2 … in the order they came
    direction    text NOT NULL,               -- in | out
    kind         text NOT NULL,
    from_address text NOT NULL,
    subject      text NOT NULL,
    message_id   text NOT NULL,
    at           timestamptz NOT NULL,
    text         text NOT NULL,               -- the new text (quoted history cut)
    record       jsonb NOT NULL,              -- the rest: recipients, attachments, files
    PRIMARY KEY (sr, n)
);

CREATE TABLE events (
    sr      bigint NOT NULL REFERENCES srs (id),
    n       integer NOT NULL,
    at      timestamptz NOT NULL,
    kind    text NOT NULL,
    by      text NOT NULL,
    record  jsonb NOT NULL,
    PRIMARY KEY (sr, n)
);
CREATE INDEX events_kind ON events (kind, at);

CREATE TABLE participants (
    sr      bigint NOT NULL REFERENCES srs (id),
    address text NOT NULL,
    PRIMARY KEY (sr, address)
);

-- Every Message-ID received or sent, and the SR it threads to (the first SR keeps it).
CREATE TABLE message_ids (
    message_id text PRIMARY KEY,
    sr         bigint NOT NULL
);

-- The dedupe set: a mail's key and the SR it went to (0: none).
CREATE TABLE seen (
    key         text PRIMARY KEY,
    sr          bigint NOT NULL,
    fingerprint bytea
);

CREATE TABLE contacts (
    address text PRIMARY KEY,              -- lower case
    record  jsonb NOT NULL
);

-- Open SRs per CSE (the least-loaded assignment reads it).
CREATE TABLE loads (
    cse  text PRIMARY KEY,
    open bigint NOT NULL
);

CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    sr              bigint NOT NULL,
    kind            text NOT NULL,
    recipients      text[] NOT NULL,       -- lower case: order is kept per (SR, recipient)
    message_id      text NOT NULL,
    queued_at       timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        integer NOT NULL,
    last_error      text,
    item            jsonb NOT NULL,        -- the item as srgate reads it back
    body            bytea NOT NULL,        -- the rendered mail
    claimed_by      text,                  -- the gateway delivering it …
    claimed_until   timestamptz            -- … until then: extended while the gateway lives,
                                           -- a dead gateway's claim runs out within failover_after
);
CREATE INDEX outbox_claims ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id);
CREATE INDEX outbox_by_sr ON outbox (sr, id);

CREATE TABLE quarantine (
    id           bigserial PRIMARY KEY,
    mailbox      text NOT NULL,
    uid          bigint NOT NULL,
    reason       text NOT NULL,
    from_address text NOT NULL,
    subject      text NOT NULL,
    at           timestamptz NOT NULL,
    content_hash text NOT NULL,
    record       jsonb NOT NULL
);

-- Where each mailbox's reading stands: every UID up to last_uid is committed.
CREATE TABLE mailboxes (
    mailbox      text PRIMARY KEY,
    uid_validity bigint NOT NULL,
    last_uid     bigint NOT NULL
);

-- Mails committed but not yet flagged or moved on the server.
CREATE TABLE pending (
    mailbox      text NOT NULL,
    uid_validity bigint NOT NULL,
    uid          bigint NOT NULL,
    disposition  text NOT NULL,            -- processed | quarantine
    PRIMARY KEY (mailbox, uid_validity, uid)
);

-- Mailbox leases: the owner holds a session advisory lock; `token` grows with every
-- takeover and every commit checks it (fencing: a gateway that lost the lease cannot
-- commit for the mailbox any more, even before it notices).
CREATE TABLE mailbox_leases (
    mailbox  text PRIMARY KEY,
    token    bigint NOT NULL,
    owner    text NOT NULL,
    taken_at timestamptz NOT NULL
);

-- Automated mail sent, per recipient: the hourly cap.
CREATE TABLE automated (
    address    text NOT NULL,             -- lower case
    at         timestamptz NOT NULL,
    message_id text NOT NULL,
    PRIMARY KEY (address, at, message_id)
);
CREATE INDEX automated_at ON automated (at);

-- Knowledge-base articles suggested to a customer (not again within 30 days).
CREATE TABLE kb_suggested (
    customer text NOT NULL,               -- lower case
    article  text NOT NULL,
    at       timestamptz NOT NULL,
    PRIMARY KEY (customer, article)
);

-- Originals and attachments, content-addressed: stored once, seen by every gateway.
CREATE TABLE files (
    sha256 text PRIMARY KEY,
    size   bigint NOT NULL,
    bytes  bytea NOT NULL
);
