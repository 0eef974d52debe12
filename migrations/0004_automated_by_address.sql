-- srgate schema, version 4: the hourly cap's records are found by address only.
--
-- Each decision counts the automated mails sent to the mail's addresses since a moment
-- (`address = ANY($2) AND at >= $3`). Statements are planned once per connection
-- (plan_cache_mode = force_generic_plan), often while the table is still new and has no
-- statistics; with the index on `at` beside the primary key (address, at, message_id),
-- the planner could pick the scan of every recent record and keep it for the connection's
-- lifetime: a decision's cost then grew with the mail sent in the last two hours. With
-- only the primary key, the lookup is by address whatever the statistics. Pruning the
-- records older than two hours (every scheduler pass) reads the table once instead, and
-- the table holds two hours of automated mail.

DROP INDEX automated_at;
