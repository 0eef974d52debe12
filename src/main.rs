//! The `srgate` command line: parse arguments, set up logging, dispatch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use srgate::config::Config;
use srgate::config::StoreEngine;
use srgate::daemon::{self, Gateway};
use srgate::gateway::intake::Intake;
use srgate::io::client::{export, query};
use srgate::io::control::{self, Request, Response};
use srgate::io::store::postgres::schema::migrate;
use srgate::io::store::{Store, StoreError};
use srgate::report;
use srgate::setup::Setup;
use srgate::sr::{Priority, State};
use srgate::time::Clock;
use srgate::triage::triage;

/// jemalloc rather than the C library's allocator, with two arenas, memory handed back
/// within a tenth of a second and small per-thread caches (`.cargo/config.toml`): the C
/// library's per-thread arenas left `run --once` on a 10,000-mail backlog at 371 MB resident
/// against 133–143 MB (BENCHMARKS.md, issue 16).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// srgate: an email-driven support-request gateway.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The configuration file.
    #[arg(long, short, global = true, env = "SRGATE_CONFIG", default_value = "/etc/srgate/srgate.toml")]
    config: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (until SIGTERM/SIGINT), or one cycle with --once.
    Run {
        /// One full cycle (read every mailbox, process, deliver), then exit.
        #[arg(long)]
        once: bool,
        /// With --once: the gateway's clock reads this instant (RFC 3339) for the whole cycle.
        #[arg(long, requires = "once")]
        now: Option<String>,
    },
    /// Load config, rules and templates; report every problem with file and line.
    Check,
    /// Look at support requests.
    Sr {
        #[command(subcommand)]
        command: SrCommand,
    },
    /// Designated contacts: people who may act on every SR of their organisation.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// Look at a message the way the gateway reads it.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Back up every SR with its history, the contacts and the quarantine as JSON lines
    /// (works while a daemon runs).
    Export {
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Restore a backup into an empty data directory (no daemon running).
    Import {
        /// The export to read (`-` for standard input).
        file: PathBuf,
    },
    /// Work with the rule files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Look at mail that could not be processed.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
    /// Stored files: the original of every mail and each attachment.
    File {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// OAuth2 credentials: sign in, and see their state.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// Apply the PostgreSQL schema files this srgate knows (`[store] engine = "postgres"`);
    /// safe to run again.
    Migrate,
    /// The store itself.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Copy everything (SRs, contacts, quarantine, outbox, positions, files) from one
    /// configuration's store into another's, which must be empty: sled → postgres and back.
    Copy {
        /// The configuration whose store is read (no daemon may run on a sled store).
        #[arg(long)]
        from: PathBuf,
        /// The configuration whose (empty) store is written.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Sign in for a `flow = "device_code"` credential: prints a URL and a code, waits
    /// while a person signs in, and saves the refresh token for the daemon.
    Login {
        /// The `[[credential]]`'s name.
        credential: String,
    },
    /// Each credential's flow, account, token expiry, refresh-token age, secret expiry,
    /// last success and last error.
    Status {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum FileCommand {
    /// Write a stored file (by its SHA-256, as `sr show --json` and `quarantine list` give it).
    Get {
        /// The file's SHA-256 (hex).
        sha256: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SrCommand {
    /// List SRs (all, closed ones included, unless --state narrows it).
    List {
        /// Only SRs in this state (new, open, awaiting_customer, on_hold, closed).
        #[arg(long)]
        state: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one SR with its messages.
    Show {
        /// The SR number.
        id: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Open an SR for a customer (a phone call): triaged by the rules on the text, the
    /// customer acknowledged with its number and the text.
    Open {
        /// The customer's address.
        #[arg(long)]
        customer: String,
        /// The customer's name.
        #[arg(long)]
        name: Option<String>,
        /// The SR's subject.
        #[arg(long)]
        subject: String,
        /// The CSE who gets it (roster address or name; default: the rules decide).
        #[arg(long)]
        assignee: Option<String>,
        /// P1 to P4 (default: the rules decide).
        #[arg(long)]
        priority: Option<String>,
        /// The summary of the request: a file, or `-` for standard input (default: the subject).
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// Print the new SR as JSON.
        #[arg(long)]
        json: bool,
        /// Without a daemon only: decide as if the clock read this instant (RFC 3339).
        #[arg(long, hide = true)]
        now: Option<String>,
    },
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// List every designated contact.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add (or replace) a designated contact.
    Add {
        /// Display name.
        name: String,
        /// Mail address.
        address: String,
        /// Phone number.
        #[arg(long)]
        phone: Option<String>,
        /// The account they act for (default: the account of their domain, else the domain itself).
        #[arg(long)]
        account: Option<String>,
    },
    /// Remove a designated contact.
    Remove {
        /// Mail address.
        address: String,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Parse, classify, thread and strip one message; print what the gateway sees.
    /// Touches neither the store nor the network.
    Inspect {
        /// The message (.eml).
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Show how one message would be triaged: every matching rule and why, and the outcome.
    /// Touches neither the store nor the network.
    Explain {
        /// The message (.eml).
        file: PathBuf,
        /// Decide as if the gateway's clock read this instant (RFC 3339).
        #[arg(long)]
        now: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// List quarantined mail and why.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SRGATE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    #[cfg(feature = "failpoints")]
    let _failpoints = srgate::failpoint::arm();
    // Every file srgate creates (store, attachments, lock, socket, export) is its user's alone.
    srgate::io::access::private_umask();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    // `run` (daemon or --once) uses every core; other one-shot commands start faster on one thread.
    let daemon = matches!(cli.command, Command::Run { .. });
    let built = if daemon {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let runtime = match built {
        Ok(r) => r,
        Err(e) => {
            eprintln!("srgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("srgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    Config::load(path, &srgate::io::access::lookup_group).map_err(|d| anyhow::anyhow!("invalid configuration:\n{d}"))
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check => check(&cli.config),
        Command::Run { once, now } => {
            let setup = load_setup(&cli.config)?;
            for w in &setup.config.warnings {
                tracing::warn!("{}", w.as_warning());
            }
            secure_data_dir(&setup.config)?;
            let clock = clock_at(now.as_deref())?;
            let gw = tokio::task::spawn_blocking(move || Gateway::open(setup, clock)).await?.map_err(refuse_second_daemon)?;
            if once {
                daemon::run_once(Arc::new(gw)).await?;
            } else {
                daemon::run(Arc::new(gw)).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sr { command } => {
            let config = load_config(&cli.config)?;
            match command {
                SrCommand::List { state, json } => {
                    let state = match state {
                        Some(s) => Some(
                            State::parse(&s)
                                .with_context(|| format!("unknown state {s:?}: use new, open, awaiting_customer, on_hold or closed"))?,
                        ),
                        None => None,
                    };
                    let value = query(&config, Request::SrList { state }).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&value)?);
                    } else {
                        for sr in value.as_array().into_iter().flatten() {
                            println!("{}", report::list_line(sr));
                        }
                    }
                }
                SrCommand::Show { id, json } => {
                    let value = query(&config, Request::SrShow { id }).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&value)?);
                    } else {
                        print!("{}", report::show_text(&value));
                    }
                }
                SrCommand::Open { customer, name, subject, assignee, priority, body_file, json, now } => {
                    let priority = match priority.as_deref().map(str::to_ascii_uppercase).as_deref() {
                        None => None,
                        Some("P1") => Some(Priority::P1),
                        Some("P2") => Some(Priority::P2),
                        Some("P3") => Some(Priority::P3),
                        Some("P4") => Some(Priority::P4),
                        Some(other) => bail!("--priority {other}: use P1, P2, P3 or P4"),
                    };
                    let summary = match body_file {
                        Some(f) if f.as_os_str() == "-" => {
                            std::io::read_to_string(std::io::stdin()).context("cannot read the text from standard input")?
                        }
                        Some(f) => std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?,
                        None => subject.clone(),
                    };
                    let intake = Intake { customer, name, subject, summary, assignee, priority };
                    let (value, queued) = open_sr(&cli.config, &config, intake, now.as_deref()).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&value)?);
                    } else {
                        let f = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
                        println!(
                            "opened {} for {}: {} ({}, assigned to {})",
                            f("token"),
                            f("customer"),
                            f("subject"),
                            f("priority"),
                            f("assignee")
                        );
                    }
                    if queued {
                        eprintln!("no daemon is running: the acknowledgement goes out with the next `srgate run`");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Contacts { command } => {
            let config = load_config(&cli.config)?;
            match command {
                ContactsCommand::List { json } => {
                    let value = query(&config, Request::ContactsList).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&value)?);
                    } else {
                        for c in value.as_array().into_iter().flatten() {
                            let f = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
                            println!("{:<32} {:<24} {:<16} {}", f("address"), f("name"), f("phone"), f("scope"));
                        }
                    }
                }
                ContactsCommand::Add { name, address, phone, account } => {
                    let address = address.trim().to_ascii_lowercase();
                    if !address.contains('@') {
                        bail!("{address:?} is not a mail address");
                    }
                    let scope = srgate::contacts::scope_for(&config, &address, account.as_deref()).map_err(anyhow::Error::msg)?;
                    let contact = srgate::contacts::Contact { name, address, phone, scope };
                    query(&config, Request::ContactsAdd { contact }).await?;
                }
                ContactsCommand::Remove { address } => {
                    query(&config, Request::ContactsRemove { address: address.trim().to_ascii_lowercase() }).await?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Mail { command: MailCommand::Inspect { file, json } } => inspect(&file, json),
        Command::Export { output } => {
            let config = load_config(&cli.config)?;
            let n = export(&config, output.as_deref()).await?;
            eprintln!("exported {n} SRs");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file } => {
            let setup = load_setup(&cli.config)?;
            if control::ask(&setup.config.control_socket(), &Request::ContactsList).await?.is_some() {
                bail!("a daemon is running on {}: stop it first (import needs an empty data directory)", setup.config.data_dir.display());
            }
            secure_data_dir(&setup.config)?;
            let place = setup.config.data_dir.display().to_string();
            let n = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                let store = Store::open_configured(&setup.config, std::time::Duration::ZERO).map_err(|e| anyhow::anyhow!("{e}"))?;
                let n = if file.as_os_str() == "-" {
                    srgate::backup::import(&store, std::io::stdin().lock(), &setup.policy)?
                } else {
                    let f = std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
                    srgate::backup::import(&store, std::io::BufReader::new(f), &setup.policy)?
                };
                store.close()?;
                Ok(n)
            })
            .await??;
            eprintln!("imported {n} SRs into {place}");
            Ok(ExitCode::SUCCESS)
        }
        Command::File { command: FileCommand::Get { sha256, output } } => {
            let config = load_config(&cli.config)?;
            let value = query(&config, Request::File { sha256: sha256.trim().to_ascii_lowercase() }).await?;
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value["base64"].as_str().unwrap_or_default())
                .context("the file came back garbled")?;
            match output {
                Some(p) => std::fs::write(&p, &bytes).with_context(|| format!("cannot write {}", p.display()))?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = load_config(&cli.config)?;
            let StoreEngine::Postgres(pg) = config.store.engine else {
                bail!("[store] engine is sled: there is no database schema to migrate");
            };
            let applied = tokio::task::spawn_blocking(move || migrate(&pg)).await??;
            for m in &applied {
                println!("applied {:04}_{}.sql", m.version, m.name);
            }
            println!("the database schema is at version {}", srgate::io::store::postgres::schema::current_version());
            Ok(ExitCode::SUCCESS)
        }
        Command::Store { command: StoreCommand::Copy { from, to } } => {
            let (source, target) = (load_setup(&from)?, load_setup(&to)?);
            secure_data_dir(&source.config)?;
            secure_data_dir(&target.config)?;
            let copied = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let read = Store::open_configured(&source.config, std::time::Duration::ZERO)?;
                let write = Store::open_configured(&target.config, std::time::Duration::ZERO)?;
                let copied = srgate::backup::copy(&read, &write, &target.policy)?;
                write.close()?;
                Ok(copied)
            })
            .await??;
            eprintln!(
                "copied {} SRs, {} contacts, {} quarantine records, {} queued mails, {} other records, {} files",
                copied.srs, copied.contacts, copied.quarantine, copied.outbox, copied.bookkeeping, copied.files
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Auth { command: AuthCommand::Login { credential } } => {
            let config = load_config(&cli.config)?;
            secure_data_dir(&config)?;
            tokio::task::spawn_blocking(move || srgate::io::oauth::login::login(&config, &credential, &mut std::io::stdout()))
                .await
                .context("the sign-in failed")??;
            Ok(ExitCode::SUCCESS)
        }
        Command::Auth { command: AuthCommand::Status { json } } => {
            let config = load_config(&cli.config)?;
            let rows = srgate::io::oauth::status::status(&config, srgate::time::wall_now());
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", srgate::io::oauth::status::render(&rows));
            }
            // Exit 1 when a credential is failing, for scripts and monitoring.
            Ok(if rows.iter().any(|r| r.failing) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Command::Rules { command: RulesCommand::Explain { file, now, json } } => explain(&cli.config, &file, now.as_deref(), json),
        Command::Quarantine { command: QuarantineCommand::List { json } } => {
            let config = load_config(&cli.config)?;
            let value = query(&config, Request::QuarantineList).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                for q in value.as_array().into_iter().flatten() {
                    let f = |k: &str| q.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default();
                    println!(
                        "{} {} uid={} from={} subject={:?} original={}: {}",
                        f("at"),
                        f("mailbox"),
                        f("uid"),
                        f("from"),
                        f("subject"),
                        f("content_hash"),
                        f("reason")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn clock_at(now: Option<&str>) -> anyhow::Result<Clock> {
    Ok(match now {
        Some(t) => Clock::Fixed(parse_instant(t)?),
        None => Clock::System,
    })
}

fn parse_instant(t: &str) -> anyhow::Result<jiff::Timestamp> {
    t.parse().with_context(|| format!("--now {t:?} is not an RFC 3339 instant"))
}

fn load_setup(path: &Path) -> anyhow::Result<Setup> {
    Setup::load(path).map_err(|d| anyhow::anyhow!("invalid configuration, rules or templates:\n{d}"))
}

fn explain(config: &Path, file: &Path, now: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let setup = load_setup(config)?;
    let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mail = srgate::mail::inbound::parse(&raw).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let now = clock_at(now)?.now();
    let mailbox = setup.config.mailboxes.first().map(|m| m.name.clone()).unwrap_or_default();
    let ctx = srgate::gateway::Ctx {
        config: &setup.config,
        templates: &setup.templates,
        rules: &setup.rules,
        policy: &setup.policy,
        kb: &setup.kb,
        instance: "explain",
    };
    let no_load = std::collections::HashMap::new();
    let t = triage(ctx, &mail, &srgate::gateway::NewSr { id: 0, mailbox: &mailbox, loads: &no_load, rr: 0 }, now);
    let query = srgate::kb::Query {
        subject: &mail.subject,
        text: &mail.new_text,
        language: &t.language,
        detected_language: t.detected_language.as_deref(),
        product: t.product.as_deref(),
    };
    // Which articles the acknowledgement would list (the store's 30-day memory aside).
    let candidates = setup.kb.candidates(&query);
    let suggested: Vec<&str> = candidates.iter().filter(|c| c.strong()).take(srgate::kb::MAX_SUGGESTIONS).map(|c| c.id.as_str()).collect();
    if json {
        let mut v = serde_json::to_value(&t)?;
        v["now"] = serde_json::Value::String(now.to_string());
        let mut articles = serde_json::to_value(&candidates)?;
        for a in articles.as_array_mut().into_iter().flatten() {
            let is = a["id"].as_str().is_some_and(|id| suggested.contains(&id));
            a["suggested"] = serde_json::Value::Bool(is);
        }
        v["articles"] = articles;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}  (at {}, {})",
        file.display(),
        setup.policy.local_display(now),
        if t.after_hours { "after hours" } else { "business hours" }
    );
    for m in &t.matched_rules {
        println!("  rule {:?} ({}:{})", m.name, m.file.display(), m.line);
        for r in m.reasons.iter().chain(m.effects.iter()) {
            println!("      {r}");
        }
    }
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    println!("  support address    {}", t.support_address);
    println!("  priority           {:?}", t.priority);
    println!("  language           {} (detected {})", t.language, opt(&t.detected_language));
    println!("  product            {}", opt(&t.product));
    println!("  account            {} ({})", opt(&t.account), opt(&t.tier));
    println!("  assignee           {} ({})", opt(&t.assignee), t.assignment);
    println!("  tags               {}", t.tags.join(", "));
    println!("  first response by  {}", setup.policy.local_display(t.first_response_due));
    if let Some(at) = t.assign_at {
        println!("  assigned at        {}", setup.policy.local_display(at));
    }
    if candidates.is_empty() {
        println!("  articles           none matched");
    }
    for c in &candidates {
        let verdict = if suggested.contains(&c.id.as_str()) {
            "suggested"
        } else if c.strong() {
            "not suggested: three better ones"
        } else {
            "not suggested: score under min_score"
        };
        println!("  article {:?} ({}) score {} of {}: {verdict}", c.id, c.source, c.score, c.min_score);
        println!("      matched {}", c.why());
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value = srgate::report::inspect_json(&raw);
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        for (k, v) in value.as_object().into_iter().flatten() {
            match v {
                serde_json::Value::String(s) if s.contains('\n') => println!("{k}:\n  {}", s.replace('\n', "\n  ")),
                serde_json::Value::String(s) => println!("{k}: {s}"),
                other => println!("{k}: {other}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn refuse_second_daemon(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Locked(dir)) => anyhow::anyhow!("refusing to start: another srgate daemon is running on {}", dir.display()),
        _ => e,
    }
}

/// Makes the data directory private (creating it when missing): see [`srgate::io::access`].
fn secure_data_dir(config: &Config) -> anyhow::Result<()> {
    if let Some(warning) = srgate::io::access::secure_data_dir(&config.data_dir, config.control_socket_group.as_ref())? {
        tracing::warn!("{warning}");
    }
    Ok(())
}

/// `sr open`: the running daemon opens the SR (its clock decides); without one, this
/// process opens the store and does it (`--now` only then). The new SR, and whether
/// its mail waits in the outbox for the next run.
async fn open_sr(path: &Path, config: &Config, intake: Intake, now: Option<&str>) -> anyhow::Result<(serde_json::Value, bool)> {
    let socket = config.control_socket();
    let request = Request::SrOpen { intake: intake.clone() };
    let answered = if now.is_some() { None } else { control::ask(&socket, &request).await? };
    let (response, queued) = match answered {
        Some(r) => (r, false),
        None => {
            let setup = load_setup(path)?;
            secure_data_dir(&setup.config)?;
            let clock = clock_at(now)?;
            let gw = match tokio::task::spawn_blocking(move || Gateway::open(setup, clock)).await? {
                Ok(gw) => gw,
                Err(e) if now.is_some() && matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Locked(_))) => {
                    bail!("a daemon is running on this data directory: --now needs the store to itself")
                }
                Err(e) if matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Locked(_))) => {
                    // A daemon holds the store but its socket did not answer yet (starting up): ask once more.
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    let r = control::ask(&socket, &request)
                        .await?
                        .context("a daemon holds the store but does not answer on its control socket")?;
                    return match r {
                        Response::Ok(v) => Ok((v, false)),
                        Response::Error(e) => bail!(e),
                    };
                }
                Err(e) => return Err(e),
            };
            let sr = tokio::task::spawn_blocking(move || gw.open_sr(intake)).await.context("opening the SR failed")?;
            match sr {
                Ok(sr) => (Response::Ok(report::sr_json(&sr)), true),
                Err(e) => (Response::Error(e), true),
            }
        }
    };
    match response {
        Response::Ok(v) => Ok((v, queued)),
        Response::Error(e) => bail!("cannot open the SR: {e}"),
    }
}

fn check(path: &Path) -> anyhow::Result<ExitCode> {
    match Setup::load(path) {
        Ok(setup) => {
            // How staff mail is authenticated, per mailbox; a mailbox where it cannot be fails the check.
            let dns = srgate::io::authn::usable(&setup.config);
            let plans: Vec<Result<String, String>> =
                setup.config.mailboxes.iter().map(|m| srgate::io::authn::plan(&setup.config, m, &dns)).collect();
            for w in &setup.config.warnings {
                eprintln!("{}", w.as_warning());
            }
            if plans.iter().any(Result::is_err) {
                for p in plans.iter().filter_map(|p| p.as_ref().err()) {
                    eprintln!("{}: {p}", path.display());
                }
                return Ok(ExitCode::FAILURE);
            }
            if let StoreEngine::Postgres(pg) = &setup.config.store.engine {
                // The client blocks: on a thread of its own, not the runtime's.
                match std::thread::scope(|s| s.spawn(|| srgate::io::store::postgres::schema::verify(pg)).join()) {
                    Ok(Ok(version)) => println!("store: postgres at {}, schema version {version} (as this srgate expects)", pg.host),
                    Ok(Err(e)) => {
                        eprintln!("{}: [store]: {e}", path.display());
                        return Ok(ExitCode::FAILURE);
                    }
                    Err(_) => bail!("the database check failed"),
                }
            }
            println!(
                "{}: ok ({} rules, {} CSEs, {} mailboxes)",
                path.display(),
                setup.rules.len(),
                setup.config.cses.len(),
                setup.config.mailboxes.len()
            );
            for p in plans.iter().flatten() {
                println!("{p}");
            }
            if !setup.kb.is_empty() {
                println!("knowledge base: {} articles in {}", setup.kb.articles().len(), setup.config.kb_dir.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for p in &problems.0 {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s) found", problems.0.len());
            Ok(ExitCode::FAILURE)
        }
    }
}
