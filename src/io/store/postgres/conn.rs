//! A pooled connection that prepares each statement once and can send many statements
//! without waiting for each answer.
//!
//! A query by text costs two round trips (prepare, then execute), a prepared one
//! costs one. So [`Conn`] keeps the statements it prepared for as long as it lives,
//! and a [`Batch`] sends statements one after the other in a single write and reads
//! their answers together (the protocol's pipelining): a transaction of several
//! statements is one round trip (`BEGIN`, its statements and `COMMIT` in one write;
//! a single statement goes alone, a transaction of its own), and
//! [`Conn::transact_then`] adds the statements to run once it has ended (the next
//! mail's reads) to the same write.
//!
//! A statement is planned once (`plan_cache_mode = force_generic_plan`, see `connect`),
//! and a plan is only as good as what the planner knew of the tables when it made it: a
//! new desk's tables are empty and grow with every mail, so a plan made on the first
//! mails (a scan of a table of one page is cheaper than its index) could be kept while
//! the table grows to thousands of pages. So a statement is prepared, and planned, again
//! after its 8th, 16th, 32nd … execution on the connection ([`PlanSchedule`]): the tables
//! grow with the executions, at most twofold between two plans, and seventeen plans serve a
//! million executions.
//!
//! Underneath is tokio-postgres on a current-thread runtime of the connection's own,
//! driven only while a call blocks on it (as the `postgres` crate does): every store
//! call already runs on a blocking thread.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Row, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Parameters of a statement.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A parameter a [`Batch`] holds until it is sent: a value or a reference.
pub type Param<'a> = Box<dyn ToSql + Sync + 'a>;

/// The parameters of one statement of a [`Batch`], each boxed: `params![a, &b]`.
macro_rules! params {
    ($($p:expr),* $(,)?) => { vec![$(Box::new($p) as $crate::io::store::postgres::conn::Param<'_>),*] };
}
pub(crate) use params;

/// One connection to the database and the statements prepared on it.
pub struct Conn {
    runtime: tokio::runtime::Runtime,
    client: Client,
    statements: HashMap<String, Prepared>,
}

/// A statement prepared on a connection, and when to prepare it again.
struct Prepared {
    statement: Statement,
    plans: PlanSchedule,
}

/// When a statement is prepared (and planned) again: at its 8th, 16th, 32nd … run.
struct PlanSchedule {
    /// How many times it has been run since the connection first prepared it.
    runs: u64,
    /// The run at which it is planned again.
    plan_again_at: u64,
}

impl PlanSchedule {
    /// A statement prepared for its first run.
    fn new() -> Self {
        PlanSchedule { runs: 1, plan_again_at: 8 }
    }

    /// Counts one more run; true when the statement should be prepared again first.
    fn run(&mut self) -> bool {
        self.runs += 1;
        if self.runs < self.plan_again_at {
            return false;
        }
        self.plan_again_at = self.plan_again_at.saturating_mul(2);
        true
    }
}

/// What a statement of a [`Batch`] answered.
pub enum Answer {
    /// The rows of a query.
    Rows(Vec<Row>),
    /// How many rows a write changed.
    Changed(u64),
}

impl Answer {
    /// The rows (none for a write).
    pub fn rows(&self) -> &[Row] {
        match self {
            Answer::Rows(rows) => rows,
            Answer::Changed(_) => &[],
        }
    }

    /// The rows changed (0 for a query).
    pub fn changed(&self) -> u64 {
        match self {
            Answer::Rows(_) => 0,
            Answer::Changed(n) => *n,
        }
    }
}

/// Statements sent together, in order, answered in order.
#[derive(Default)]
pub struct Batch<'a> {
    items: Vec<(&'static str, bool, Vec<Param<'a>>)>,
}

impl<'a> Batch<'a> {
    /// Adds a write; returns its place among the answers.
    pub fn execute(&mut self, sql: &'static str, params: Vec<Param<'a>>) -> usize {
        self.items.push((sql, false, params));
        self.items.len() - 1
    }

    /// Adds a query; returns its place among the answers.
    pub fn query(&mut self, sql: &'static str, params: Vec<Param<'a>>) -> usize {
        self.items.push((sql, true, params));
        self.items.len() - 1
    }
}

/// A future of a statement's answer.
type Pending<'f> = Pin<Box<dyn Future<Output = Result<Answer, postgres::Error>> + 'f>>;

/// Polls every future in order until all are done: each sends its request the first
/// time it is polled, so the requests leave in the order given.
async fn in_order(mut futures: Vec<Pending<'_>>) -> Vec<Result<Answer, postgres::Error>> {
    let mut answers: Vec<Option<Result<Answer, postgres::Error>>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (future, answer) in futures.iter_mut().zip(answers.iter_mut()) {
            if answer.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(a) => *answer = Some(a),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    answers.into_iter().flatten().collect()
}

/// The answer to one statement with its parameters, sent when first polled.
fn pending<'f>(client: &'f Client, is_query: bool, params: &'f [Param<'_>], statement: &'f Statement) -> Pending<'f> {
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
    Box::pin(async move {
        if is_query {
            client.query(statement, &params).await.map(Answer::Rows)
        } else {
            client.execute(statement, &params).await.map(Answer::Changed)
        }
    })
}

impl Conn {
    /// Connects with `config` over `tls`.
    fn connect(config: &tokio_postgres::Config, tls: MakeRustlsConnect) -> Result<Conn, ConnectError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(ConnectError::Runtime)?;
        let (client, mut connection) = runtime.block_on(config.connect(tls)).map_err(ConnectError::Database)?;
        // The connection's messages are read while a call blocks on the runtime; the
        // server's notices ("relation already exists, skipping") go to the debug log.
        runtime.spawn(std::future::poll_fn(move |cx| {
            loop {
                match connection.poll_message(cx) {
                    Poll::Ready(Some(Ok(AsyncMessage::Notice(notice)))) => {
                        tracing::debug!(notice = notice.message(), "database notice");
                    }
                    Poll::Ready(Some(Ok(_))) => {}
                    Poll::Ready(Some(Err(_)) | None) => return Poll::Ready(()),
                    Poll::Pending => return Poll::Pending,
                }
            }
        }));
        Ok(Conn { runtime, client, statements: HashMap::new() })
    }

    /// The statement for `sql`, prepared the first time and again as [`PlanSchedule`] says
    /// (the statement it replaces is closed on the server when its last copy is dropped).
    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        let Some(p) = self.statements.get_mut(sql) else {
            let statement = self.runtime.block_on(self.client.prepare(sql))?;
            let p = Prepared { statement: statement.clone(), plans: PlanSchedule::new() };
            self.statements.insert(sql.to_string(), p);
            return Ok(statement);
        };
        if p.plans.run() {
            p.statement = self.runtime.block_on(self.client.prepare(sql))?;
        }
        Ok(p.statement.clone())
    }

    /// Rows of `sql`.
    pub fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let s = self.prepared(sql)?;
        self.runtime.block_on(self.client.query(&s, params))
    }

    /// Hands `each` the rows of `sql` as they arrive, never all held at once, until it
    /// answers false.
    pub fn for_each_row(&mut self, sql: &str, params: Params<'_>, each: &mut dyn FnMut(Row) -> bool) -> Result<(), postgres::Error> {
        use futures_util::StreamExt as _;
        let s = self.prepared(sql)?;
        let client = &self.client;
        self.runtime.block_on(async {
            let mut rows = std::pin::pin!(client.query_raw(&s, params.iter().copied()).await?);
            while let Some(row) = rows.next().await {
                if !each(row?) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// The one row of `sql`.
    pub fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let s = self.prepared(sql)?;
        self.runtime.block_on(self.client.query_one(&s, params))
    }

    /// The row of `sql`, if any.
    pub fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        let s = self.prepared(sql)?;
        self.runtime.block_on(self.client.query_opt(&s, params))
    }

    /// Runs `sql`; the rows it changed.
    pub fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let s = self.prepared(sql)?;
        self.runtime.block_on(self.client.execute(&s, params))
    }

    /// Runs statements without parameters (not prepared).
    fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.runtime.block_on(self.client.batch_execute(sql))
    }

    /// Sends the batch's statements in one go, outside any transaction (each is one
    /// of its own), and returns their answers in order.
    pub fn pipeline(&mut self, batch: &Batch<'_>) -> Result<Vec<Result<Answer, postgres::Error>>, postgres::Error> {
        Ok(self.send(false, batch, false, None)?.0)
    }

    /// Runs the batch as one transaction in one round trip: `BEGIN`, its statements
    /// and `COMMIT` go out together (a single statement goes alone: it is a transaction
    /// of its own, and each statement costs the server an answer to send). The first error is returned (the server refused
    /// the rest of the transaction after it, and the `COMMIT` rolled it back);
    /// otherwise the statements' answers. A statement that must hold for the
    /// transaction to stand raises when it does not (`srgate_require`).
    pub fn transact(&mut self, batch: &Batch<'_>) -> Result<Vec<Answer>, postgres::Error> {
        let whole = batch.items.len() > 1;
        self.send(whole, batch, whole, None)?.0.into_iter().collect()
    }

    /// [`Conn::transact`], and `after`'s statements sent in the same write, each a
    /// transaction of its own once the first has ended (committed or rolled back):
    /// what they read includes what the transaction wrote, and the whole costs one
    /// round trip. The outer error is of preparing the statements.
    #[allow(clippy::type_complexity)]
    pub fn transact_then(
        &mut self,
        batch: &Batch<'_>,
        after: &Batch<'_>,
    ) -> Result<(Result<Vec<Answer>, postgres::Error>, Vec<Result<Answer, postgres::Error>>), postgres::Error> {
        let whole = batch.items.len() > 1;
        let (answers, after) = self.send(whole, batch, whole, Some(after))?;
        Ok((answers.into_iter().collect(), after))
    }

    /// Sends `BEGIN` (when `begin`), the batch's statements, `COMMIT` (when `commit`)
    /// and then `after`'s statements in one write; the statements' answers in order
    /// (or the error of `BEGIN` or of `COMMIT` in place of them), and `after`'s.
    #[allow(clippy::type_complexity)]
    fn send(
        &mut self,
        begin: bool,
        batch: &Batch<'_>,
        commit: bool,
        after: Option<&Batch<'_>>,
    ) -> Result<(Vec<Result<Answer, postgres::Error>>, Vec<Result<Answer, postgres::Error>>), postgres::Error> {
        let after_items = after.map_or(&[][..], |a| a.items.as_slice());
        let mut statements = Vec::with_capacity(batch.items.len() + after_items.len());
        for (sql, _, _) in batch.items.iter().chain(after_items) {
            statements.push(self.prepared(sql)?);
        }
        let client = &self.client;
        let mut futures: Vec<Pending<'_>> = Vec::with_capacity(statements.len() + 2);
        let mut prepared = statements.iter();
        if begin {
            futures.push(Box::pin(async move { client.batch_execute("BEGIN").await.map(|()| Answer::Changed(0)) }));
        }
        for ((_, is_query, params), s) in batch.items.iter().zip(prepared.by_ref()) {
            futures.push(pending(client, *is_query, params, s));
        }
        if commit {
            futures.push(Box::pin(async move { client.batch_execute("COMMIT").await.map(|()| Answer::Changed(0)) }));
        }
        for ((_, is_query, params), s) in after_items.iter().zip(prepared) {
            futures.push(pending(client, *is_query, params, s));
        }
        let mut answers = self.runtime.block_on(in_order(futures));
        let after = answers.split_off(answers.len() - after_items.len());
        let committed = if commit { answers.pop() } else { None };
        if begin {
            let begun = answers.remove(0);
            if let Err(e) = begun {
                return Ok((vec![Err(e)], after));
            }
        }
        // A refused statement explains the rest; then the COMMIT's own failure.
        if let Some(Err(e)) = committed
            && answers.iter().all(Result::is_ok)
        {
            return Ok((vec![Err(e)], after));
        }
        Ok((answers, after))
    }

    /// A transaction on this connection. `BEGIN` goes out with its first statement.
    pub fn transaction(&mut self) -> Result<Tx<'_>, postgres::Error> {
        Ok(Tx { conn: self, begun: false, done: false })
    }

    /// Whether the connection is gone.
    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// Why a connection could not be made.
#[derive(Debug)]
pub enum ConnectError {
    /// The database refused or could not be reached.
    Database(postgres::Error),
    /// The connection's runtime could not be started.
    Runtime(std::io::Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Database(e) => f.write_str(&super::connect::describe(e)),
            ConnectError::Runtime(e) => write!(f, "cannot start the connection's runtime: {e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// A transaction; rolled back when dropped before [`Tx::commit`].
pub struct Tx<'a> {
    conn: &'a mut Conn,
    begun: bool,
    done: bool,
}

impl Tx<'_> {
    /// Sends `BEGIN` if this is the transaction's first statement.
    fn begin(&mut self) -> Result<(), postgres::Error> {
        if !self.begun {
            self.conn.batch_execute("BEGIN")?;
            self.begun = true;
        }
        Ok(())
    }

    /// Rows of `sql`.
    pub fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        self.begin()?;
        self.conn.query(sql, params)
    }

    /// The one row of `sql`.
    pub fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        self.begin()?;
        self.conn.query_one(sql, params)
    }

    /// The row of `sql`, if any.
    pub fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        self.begin()?;
        self.conn.query_opt(sql, params)
    }

    /// Runs `sql`; the rows it changed.
    pub fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        self.begin()?;
        self.conn.execute(sql, params)
    }

    /// Runs statements without parameters (not prepared).
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.begin()?;
        self.conn.batch_execute(sql)
    }

    /// Sends the batch's statements in one go (with `BEGIN` if they are the first) and
    /// returns their answers in order. After a failed statement the server refuses the
    /// rest of the transaction, so the first error is the one to read; the transaction
    /// can then only be rolled back.
    pub fn pipeline(&mut self, batch: &Batch<'_>) -> Result<Vec<Result<Answer, postgres::Error>>, postgres::Error> {
        let begin = !self.begun;
        self.begun = true;
        Ok(self.conn.send(begin, batch, false, None)?.0)
    }

    /// Sends the batch's statements in one go, as [`Tx::pipeline`]; the first error.
    pub fn run(&mut self, batch: &Batch<'_>) -> Result<(), postgres::Error> {
        self.pipeline(batch)?.into_iter().try_for_each(|answer| answer.map(drop))
    }

    /// Commits. (A transaction the server already refused answers `ROLLBACK` to
    /// `COMMIT`: read the answers of [`Tx::pipeline`] before calling this.)
    pub fn commit(mut self) -> Result<(), postgres::Error> {
        self.done = true;
        if self.begun { self.conn.batch_execute("COMMIT") } else { Ok(()) }
    }

    /// Rolls back.
    pub fn rollback(mut self) -> Result<(), postgres::Error> {
        self.done = true;
        if self.begun { self.conn.batch_execute("ROLLBACK") } else { Ok(()) }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.begun && !self.done {
            let _ = self.conn.batch_execute("ROLLBACK");
        }
    }
}

/// Makes [`Conn`]s for the pool.
pub struct Manager {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

impl Manager {
    /// Connections made with `config` over `tls`.
    pub fn new(config: tokio_postgres::Config, tls: MakeRustlsConnect) -> Manager {
        Manager { config, tls }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectError;

    fn connect(&self) -> Result<Conn, ConnectError> {
        Conn::connect(&self.config, self.tls.clone())
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectError> {
        conn.batch_execute("").map_err(ConnectError::Database)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_planned_again_at_each_doubling_of_its_runs() {
        let mut plans = PlanSchedule::new();
        let again: Vec<u64> = (2..=1_000_000u64).filter(|_| plans.run()).collect();
        assert_eq!(again.first(), Some(&8));
        assert!(again.windows(2).all(|w| w[1] == 2 * w[0]));
        assert_eq!(again.len(), 17, "{again:?}");
    }
}
