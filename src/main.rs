//! The `srgate` command line: parse arguments, set up logging, dispatch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use srgate::config::Config;
use srgate::daemon::{self, Gateway};
use srgate::io::control::{self, Request, Response};
use srgate::io::store::{Store, StoreError};
use srgate::report;
use srgate::sr::State;
use srgate::time::Clock;

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
    /// Look at mail that could not be processed.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
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
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
    Config::load(path).map_err(|d| anyhow::anyhow!("invalid configuration:\n{d}"))
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check => check(&cli.config),
        Command::Run { once, now } => {
            let config = load_config(&cli.config)?;
            let clock = match now {
                Some(t) => Clock::Fixed(t.parse().with_context(|| format!("--now {t:?} is not an RFC 3339 instant"))?),
                None => Clock::System,
            };
            let gw = Gateway::open(config, clock).map_err(refuse_second_daemon)?;
            if once {
                daemon::run_once(&gw).await?;
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
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Quarantine { command: QuarantineCommand::List { json } } => {
            let config = load_config(&cli.config)?;
            let value = query(&config, Request::QuarantineList).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                for q in value.as_array().into_iter().flatten() {
                    let f = |k: &str| q.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default();
                    println!(
                        "{} {} uid={} from={} subject={:?}: {}",
                        f("at"),
                        f("mailbox"),
                        f("uid"),
                        f("from"),
                        f("subject"),
                        f("reason")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn refuse_second_daemon(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Locked(dir)) => anyhow::anyhow!("refusing to start: another srgate daemon is running on {}", dir.display()),
        _ => e,
    }
}

/// Answers a request: from the running daemon when there is one, else from the store directly.
async fn query(config: &Config, req: Request) -> anyhow::Result<serde_json::Value> {
    let response = match control::ask(&config.control_socket(), &req).await {
        Some(r) => r,
        None => match Store::open(&config.data_dir) {
            Ok(store) => control::answer(&store, &req),
            Err(StoreError::Locked(_)) => {
                // A daemon holds the store but its socket did not answer yet (starting up): retry once.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                control::ask(&config.control_socket(), &req)
                    .await
                    .context("a daemon holds the store but does not answer on its control socket")?
            }
            Err(e) => return Err(e.into()),
        },
    };
    match response {
        Response::Ok(v) => Ok(v),
        Response::Error(e) => bail!(e),
    }
}

fn check(path: &Path) -> anyhow::Result<ExitCode> {
    let mut problems = Vec::new();
    match Config::load(path) {
        Ok(config) => {
            if let Err(d) = srgate::template::Templates::load(&config.templates_dir) {
                problems.extend(d.0);
            }
            if !config.rules_dir.is_dir() {
                problems.push(srgate::diag::Diagnostic::in_file(&config.rules_dir, "rules folder does not exist"));
            }
        }
        Err(d) => problems.extend(d.0),
    }
    if problems.is_empty() {
        println!("{}: ok", path.display());
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!("{} problem(s) found", problems.len());
        Ok(ExitCode::FAILURE)
    }
}
