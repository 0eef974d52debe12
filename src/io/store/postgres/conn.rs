//! A pooled connection that prepares each statement once: a query by text costs two
//! round trips (prepare, then execute), a prepared one costs one, and a mail's
//! decision and commit run some fifty statements. [`Conn`] and [`Tx`] offer the
//! client's own methods (`query`, `execute`, …) and keep the statements they
//! prepared for as long as the connection lives.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Row, Statement, Transaction};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Parameters of a statement.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One connection to the database and the statements prepared on it.
pub struct Conn {
    /// The client (for what needs it whole: the schema check).
    pub client: postgres::Client,
    statements: HashMap<String, Statement>,
}

/// The statement for `sql`, prepared on `client` the first time.
fn prepared(
    client: &mut impl postgres::GenericClient,
    cache: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = cache.get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(sql)?;
    cache.insert(sql.to_string(), s.clone());
    Ok(s)
}

impl Conn {
    /// Rows of `sql`.
    pub fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let s = prepared(&mut self.client, &mut self.statements, sql)?;
        self.client.query(&s, params)
    }

    /// The one row of `sql`.
    pub fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let s = prepared(&mut self.client, &mut self.statements, sql)?;
        self.client.query_one(&s, params)
    }

    /// The row of `sql`, if any.
    pub fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        let s = prepared(&mut self.client, &mut self.statements, sql)?;
        self.client.query_opt(&s, params)
    }

    /// Runs `sql`; the rows it changed.
    pub fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let s = prepared(&mut self.client, &mut self.statements, sql)?;
        self.client.execute(&s, params)
    }

    /// A transaction on this connection, with its prepared statements.
    pub fn transaction(&mut self) -> Result<Tx<'_>, postgres::Error> {
        Ok(Tx { tx: self.client.transaction()?, statements: &mut self.statements })
    }
}

/// A transaction whose statements are prepared once per connection.
pub struct Tx<'a> {
    tx: Transaction<'a>,
    statements: &'a mut HashMap<String, Statement>,
}

impl Tx<'_> {
    /// Rows of `sql`.
    pub fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        let s = prepared(&mut self.tx, self.statements, sql)?;
        self.tx.query(&s, params)
    }

    /// The one row of `sql`.
    pub fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
        let s = prepared(&mut self.tx, self.statements, sql)?;
        self.tx.query_one(&s, params)
    }

    /// The row of `sql`, if any.
    pub fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error> {
        let s = prepared(&mut self.tx, self.statements, sql)?;
        self.tx.query_opt(&s, params)
    }

    /// Runs `sql`; the rows it changed.
    pub fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
        let s = prepared(&mut self.tx, self.statements, sql)?;
        self.tx.execute(&s, params)
    }

    /// Runs statements without parameters (not prepared).
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.tx.batch_execute(sql)
    }

    /// Commits.
    pub fn commit(self) -> Result<(), postgres::Error> {
        self.tx.commit()
    }
}

/// Makes [`Conn`]s for the pool.
pub struct Manager {
    config: postgres::Config,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

impl Manager {
    /// Connections made with `config` over `tls`.
    pub fn new(config: postgres::Config, tls: MakeRustlsConnect) -> Manager {
        Manager { config, tls }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn { client: self.config.connect(self.tls.clone())?, statements: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}
