//! The control socket: how `srgate sr …` reaches a running daemon.
//!
//! sled lets one process open a store. While a daemon holds it, commands
//! connect to `data_dir/srgate.sock` and send one JSON request line; the
//! daemon answers with one JSON line. Without a daemon, commands open the
//! store themselves. Both paths run the same [`answer`] function.
//!
//! The socket is locked down (see [`super::access`]): it is `0600`, or `0660`
//! with `control_socket_group`, from the moment its name appears (it is bound
//! in a private folder, its mode set, then moved into place); every peer's
//! kernel credentials are checked (root, the daemon's own user, members of the
//! group); a request line is at most [`MAX_REQUEST_BYTES`]; a connection that
//! sends nothing for [`REQUEST_TIMEOUT`], or reads nothing for
//! [`WRITE_TIMEOUT`], is closed.
//!
//! An export ([`Request::Export`]) is streamed: the daemon answers
//! `{"ok":{"export":"follows"}}`, then the export's lines, then an empty line,
//! then `{"ok":{"srs":N}}` or `{"error":…}`. The command that asked writes the
//! lines where its own user may write: the daemon never opens a path a client
//! names.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc};

use super::access::{self, Group, Peer};
use crate::backup::BackupError;
use crate::contacts::{Contact, ContactChange};
use crate::gateway::intake::Intake;
use crate::io::store::Store;
use crate::sr::State;

/// The longest request line the daemon reads (bytes, without the newline).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// How long the daemon waits for a request line.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the daemon waits for a client to take (part of) an answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; more are told the daemon is busy.
const MAX_CONNECTIONS: usize = 16;
/// Bytes of export handed over at a time.
const EXPORT_CHUNK: usize = 64 * 1024;

/// A question for whoever holds the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// Every SR, optionally in one state.
    SrList {
        /// Only SRs in this state.
        state: Option<State>,
    },
    /// One SR.
    SrShow {
        /// Its number.
        id: u64,
    },
    /// The quarantine.
    QuarantineList,
    /// Every designated contact.
    ContactsList,
    /// Add (or replace) a designated contact.
    ContactsAdd {
        /// The contact.
        contact: Contact,
    },
    /// Remove a designated contact.
    ContactsRemove {
        /// Its address.
        address: String,
    },
    /// A stored file (an original or an attachment), by its SHA-256.
    File {
        /// Its content hash.
        sha256: String,
    },
    /// A backup (see [`crate::backup`]), streamed back over the connection
    /// ([`export_from_daemon`]); never written by the daemon to a file.
    Export,
    /// Open an SR for a customer (`srgate sr open`): decided and committed by the
    /// gateway ([`Desk`]), answered with the new SR.
    SrOpen {
        /// What to open.
        intake: Intake,
    },
}

/// What the control socket asks of the gateway itself: requests that decide (rules,
/// templates, the outbox), not only read or write the store.
pub trait Desk: Send + Sync {
    /// Opens an SR for a customer (blocking); the new SR as `sr show --json` prints it.
    fn open_sr(&self, intake: Intake) -> Response;
}

/// The answer: a JSON value or an error message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// Success.
    Ok(serde_json::Value),
    /// Failure, in words.
    Error(String),
}

/// Why the daemon could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The socket exists but may not be used (permissions), or connecting failed otherwise.
    #[error(
        "cannot reach the daemon's control socket {0}: {1} (only root, srgate's own user and members of control_socket_group may use it)"
    )]
    Unreachable(PathBuf, std::io::Error),
    /// The connection broke, or the daemon answered something unreadable.
    #[error("the daemon's control socket {0}: {1}")]
    Broken(PathBuf, String),
    /// Writing the export where it was asked for failed.
    #[error("{0}")]
    Output(std::io::Error),
}

/// Answers a request from the store (every request but [`Request::Export`], which is streamed).
/// Blocking: the daemon runs it on a blocking thread.
pub fn answer(store: &Store, req: &Request) -> Response {
    match req {
        Request::ContactsAdd { contact } => {
            return match store.change_contact(&ContactChange::Add(contact.clone())) {
                Ok(()) => Response::Ok(serde_json::json!({"added": contact.address})),
                Err(e) => Response::Error(e.to_string()),
            };
        }
        Request::ContactsRemove { address } => {
            let known = store.contacts().map(|c| c.iter().any(|x| x.address == *address)).unwrap_or(false);
            if !known {
                return Response::Error(format!("no designated contact {address}"));
            }
            return match store.change_contact(&ContactChange::Remove(address.clone())) {
                Ok(()) => Response::Ok(serde_json::json!({"removed": address})),
                Err(e) => Response::Error(e.to_string()),
            };
        }
        _ => {}
    }
    read(store, req)
}

fn read(store: &Store, req: &Request) -> Response {
    let result: Result<serde_json::Value, String> = (|| match req {
        Request::SrList { state } => {
            let mut out = Vec::new();
            for sr in store.srs() {
                let sr = sr.map_err(|e| e.to_string())?;
                if state.is_none_or(|s| s == sr.state) {
                    out.push(crate::report::sr_json(&sr));
                }
            }
            Ok(serde_json::Value::Array(out))
        }
        Request::SrShow { id } => match store.get_sr(*id).map_err(|e| e.to_string())? {
            Some(sr) => Ok(crate::report::sr_json(&sr)),
            None => Err(format!("no SR {id}")),
        },
        Request::QuarantineList => serde_json::to_value(store.quarantine().map_err(|e| e.to_string())?).map_err(|e| e.to_string()),
        Request::ContactsList => serde_json::to_value(store.contacts().map_err(|e| e.to_string())?).map_err(|e| e.to_string()),
        Request::File { sha256 } => match store.file(sha256).map_err(|e| e.to_string())? {
            Some(bytes) => {
                use base64::Engine as _;
                let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
                Ok(serde_json::json!({"sha256": sha256, "size": bytes.len(), "base64": encoded}))
            }
            None => Err(format!("no stored file {sha256}")),
        },
        Request::ContactsAdd { .. } | Request::ContactsRemove { .. } => Err("not a read request".into()),
        Request::Export => Err("an export is streamed, not answered in one line".into()),
        Request::SrOpen { .. } => Err("opening an SR needs the gateway, not only the store".into()),
    })();
    match result {
        Ok(v) => Response::Ok(v),
        Err(e) => Response::Error(e),
    }
}

/// An export being made on a blocking thread: its bytes arrive in chunks, then the outcome.
pub struct ExportStream {
    chunks: mpsc::Receiver<Vec<u8>>,
    done: tokio::task::JoinHandle<Result<usize, BackupError>>,
}

impl ExportStream {
    /// Starts exporting `store` (see [`crate::backup::export`]) on a blocking thread.
    /// The export waits while its reader does not keep up (a few chunks are buffered),
    /// and stops when the reader is dropped.
    pub fn start(store: Arc<Store>) -> ExportStream {
        let (tx, chunks) = mpsc::channel(8);
        let done = tokio::task::spawn_blocking(move || {
            let mut w = std::io::BufWriter::with_capacity(EXPORT_CHUNK, ChunkWriter(tx));
            let n = crate::backup::export(&store, &mut w)?;
            w.flush()?;
            Ok(n)
        });
        ExportStream { chunks, done }
    }

    /// Copies the whole export into `out`; the number of SRs. When `out` fails,
    /// the export stops and that failure is returned.
    pub async fn copy_to(mut self, out: &mut (impl AsyncWrite + Unpin)) -> Result<usize, BackupError> {
        while let Some(chunk) = self.chunks.recv().await {
            out.write_all(&chunk).await?;
        }
        self.outcome().await
    }

    /// How the export ended, once every chunk was taken.
    async fn outcome(self) -> Result<usize, BackupError> {
        self.done.await.unwrap_or_else(|e| Err(BackupError::Io(std::io::Error::other(format!("the export failed: {e}")))))
    }
}

/// A `Write` that hands its bytes to an async reader, waiting while it is behind.
struct ChunkWriter(mpsc::Sender<Vec<u8>>);

impl std::io::Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(buf.to_vec())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader of the export went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bound, locked-down control socket of a daemon.
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
    group: Option<Group>,
}

impl ControlSocket {
    /// Binds the socket at `path` (replacing a stale one: the caller holds the
    /// store's lock, so no other daemon uses it), `0600`, or `0660` owned by
    /// `group`. It is bound in a fresh `0700` folder beside `path`, given its mode
    /// and group there, then renamed into place: it never exists under `path`
    /// with wider permissions, whatever the umask.
    pub fn bind(path: &Path, group: Option<Group>) -> std::io::Result<ControlSocket> {
        let parent = path.parent().unwrap_or(Path::new("."));
        // Folders left by a daemon that died while binding (the lock says none is running).
        for stale in std::fs::read_dir(parent).into_iter().flatten().flatten() {
            if stale.file_name().to_string_lossy().starts_with(".sock.") {
                let _ = std::fs::remove_dir_all(stale.path());
            }
        }
        let private = parent.join(format!(".sock.{}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&private).map_err(|e| annotate("cannot create", &private, e))?;
        let bound = bind_in(&private.join("s"), path, group.as_ref());
        let _ = std::fs::remove_dir_all(&private);
        Ok(ControlSocket { listener: bound?, path: path.to_path_buf(), group })
    }

    /// Serves requests until `stop` fires, then removes the socket.
    pub async fn serve(self, store: Arc<Store>, desk: Arc<dyn Desk>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let own_uid = access::own_uid();
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let group = self.group.as_ref().map(|g| g.gid);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let (store, desk, slots) = (store.clone(), desk.clone(), slots.clone());
                    tokio::spawn(async move {
                        if let Err(e) = handle(stream, store, desk, own_uid, group, slots).await {
                            tracing::debug!(error = %e, "control connection failed");
                        }
                    });
                }
                _ = stop.changed() => break,
            }
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn annotate(what: &str, p: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{what} {}: {e}", p.display()))
}

/// Binds at `staged` (in a private folder), sets mode and group, renames to `path`.
fn bind_in(staged: &Path, path: &Path, group: Option<&Group>) -> std::io::Result<UnixListener> {
    let listener = UnixListener::bind(staged).map_err(|e| annotate("cannot bind", staged, e))?;
    // Under systemd with `Group=` the group, the socket has it already: no chown needed.
    let gid = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata(staged).map_err(|e| annotate("cannot read", staged, e))?);
    if let Some(g) = group.filter(|g| g.gid != gid) {
        rustix::fs::chown(staged, None, Some(rustix::fs::Gid::from_raw(g.gid))).map_err(|e| {
            annotate(&format!("cannot give group {} (control_socket_group; srgate's user must be a member) to", g.name), path, e.into())
        })?;
    }
    let mode = if group.is_some() { access::SOCKET_GROUP_MODE } else { access::SOCKET_MODE };
    std::fs::set_permissions(staged, std::fs::Permissions::from_mode(mode)).map_err(|e| annotate("cannot set the mode of", path, e))?;
    std::fs::rename(staged, path).map_err(|e| annotate("cannot move the control socket to", path, e))?;
    Ok(listener)
}

/// Whether the peer of `stream` may use the socket; refused peers are logged.
async fn admitted(stream: &UnixStream, own_uid: u32, group: Option<u32>) -> bool {
    let Ok(cred) = stream.peer_cred() else {
        tracing::warn!("control socket: a peer without credentials was refused");
        return false;
    };
    let peer = Peer { uid: cred.uid(), gid: cred.gid() };
    let mut member = false;
    if let Some(gid) = group.filter(|gid| peer.uid != 0 && peer.uid != own_uid && peer.gid != *gid) {
        member = tokio::task::spawn_blocking(move || access::user_in_group(peer.uid, gid)).await.unwrap_or(false);
    }
    let allowed = access::peer_allowed(peer, own_uid, group, || member);
    if !allowed {
        tracing::warn!(
            uid = peer.uid,
            gid = peer.gid,
            pid = cred.pid(),
            "control socket: refused a connection from a user who is not root, srgate's user or a member of control_socket_group"
        );
    }
    allowed
}

/// One line read from a client.
enum Line {
    /// A request (without its newline).
    Request(Vec<u8>),
    /// The client closed the connection.
    End,
    /// More than [`MAX_REQUEST_BYTES`] without a newline.
    TooLong,
}

async fn read_request(reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let n = (&mut *reader).take(MAX_REQUEST_BYTES as u64 + 1).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(Line::End);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > MAX_REQUEST_BYTES {
        return Ok(Line::TooLong);
    }
    Ok(Line::Request(buf))
}

async fn send(write: &mut OwnedWriteHalf, response: &Response) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(response).unwrap_or_default();
    out.push(b'\n');
    send_bytes(write, &out).await
}

async fn send_bytes(write: &mut OwnedWriteHalf, bytes: &[u8]) -> std::io::Result<()> {
    match tokio::time::timeout(WRITE_TIMEOUT, write.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client does not read its answer")),
    }
}

async fn handle(
    stream: UnixStream,
    store: Arc<Store>,
    desk: Arc<dyn Desk>,
    own_uid: u32,
    group: Option<u32>,
    slots: Arc<Semaphore>,
) -> std::io::Result<()> {
    let allowed = admitted(&stream, own_uid, group).await;
    let (read, mut write) = stream.into_split();
    if !allowed {
        return send(&mut write, &Response::Error("refused: you may not use this control socket".into())).await;
    }
    let Ok(_slot) = slots.try_acquire_owned() else {
        return send(&mut write, &Response::Error("busy: too many control connections, try again".into())).await;
    };
    let mut reader = BufReader::new(read);
    loop {
        let line = match tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut reader)).await {
            Err(_) => {
                tracing::debug!("control connection sent no request in time; closed");
                return Ok(());
            }
            Ok(line) => line?,
        };
        let line = match line {
            Line::End => return Ok(()),
            Line::TooLong => {
                tracing::warn!(limit = MAX_REQUEST_BYTES, "control socket: a request line was too long; connection closed");
                let why = format!("bad request: a request line is at most {MAX_REQUEST_BYTES} bytes");
                return send(&mut write, &Response::Error(why)).await;
            }
            Line::Request(line) => line,
        };
        match serde_json::from_slice::<Request>(&line) {
            Ok(Request::Export) => send_export(&mut write, store.clone()).await?,
            Ok(Request::SrOpen { intake }) => {
                let desk = desk.clone();
                let response = tokio::task::spawn_blocking(move || desk.open_sr(intake))
                    .await
                    .unwrap_or_else(|e| Response::Error(format!("the request failed: {e}")));
                send(&mut write, &response).await?
            }
            Ok(req) => {
                let store = store.clone();
                let response = tokio::task::spawn_blocking(move || answer(&store, &req))
                    .await
                    .unwrap_or_else(|e| Response::Error(format!("the request failed: {e}")));
                send(&mut write, &response).await?
            }
            Err(e) => send(&mut write, &Response::Error(format!("bad request: {e}"))).await?,
        }
    }
}

/// Streams an export to the client (see the module docs for the framing).
async fn send_export(write: &mut OwnedWriteHalf, store: Arc<Store>) -> std::io::Result<()> {
    send(write, &Response::Ok(serde_json::json!({"export": "follows"}))).await?;
    let mut export = ExportStream::start(store);
    while let Some(chunk) = export.chunks.recv().await {
        send_bytes(write, &chunk).await?;
    }
    send_bytes(write, b"\n").await?;
    match export.outcome().await {
        Ok(n) => send(write, &Response::Ok(serde_json::json!({"srs": n}))).await,
        Err(e) => {
            tracing::error!(error = %e, "export over the control socket failed");
            send(write, &Response::Error(format!("the export failed: {e}"))).await
        }
    }
}

/// Connects to the daemon at `path`: `None` when no daemon listens there.
async fn connect(path: &Path) -> Result<Option<UnixStream>, ControlError> {
    match UnixStream::connect(path).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => Ok(None),
        Err(e) => Err(ControlError::Unreachable(path.to_path_buf(), e)),
    }
}

async fn send_request(write: &mut tokio::net::unix::OwnedWriteHalf, req: &Request) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(req).unwrap_or_default();
    line.push(b'\n');
    write.write_all(&line).await
}

async fn read_response(lines: &mut BufReader<tokio::net::unix::OwnedReadHalf>, path: &Path) -> Result<Response, ControlError> {
    let broken = |why: String| ControlError::Broken(path.to_path_buf(), why);
    let mut reply = String::new();
    if lines.read_line(&mut reply).await.map_err(|e| broken(e.to_string()))? == 0 {
        return Err(broken("the daemon closed the connection without an answer".into()));
    }
    serde_json::from_str(reply.trim_end()).map_err(|e| broken(format!("unreadable answer: {e}")))
}

/// Asks the daemon listening on `path`; `Ok(None)` when no daemon listens there.
pub async fn ask(path: &Path, req: &Request) -> Result<Option<Response>, ControlError> {
    let Some(stream) = connect(path).await? else { return Ok(None) };
    let (read, mut write) = stream.into_split();
    // A daemon that refuses this peer may answer (and close) before the request is written:
    // its answer says more than the failed write.
    let sent = send_request(&mut write, req).await;
    match (read_response(&mut BufReader::new(read), path).await, sent) {
        (Ok(response), _) => Ok(Some(response)),
        (Err(_), Err(e)) => Err(ControlError::Broken(path.to_path_buf(), e.to_string())),
        (Err(e), Ok(())) => Err(e),
    }
}

/// Asks the daemon on `path` for an export and writes its lines to `out`; the
/// number of SRs, or `Ok(None)` when no daemon listens there.
pub async fn export_from_daemon(path: &Path, out: &mut (impl AsyncWrite + Unpin)) -> Result<Option<usize>, ControlError> {
    let Some(stream) = connect(path).await? else { return Ok(None) };
    let broken = |why: String| ControlError::Broken(path.to_path_buf(), why);
    let (read, mut write) = stream.into_split();
    let sent = send_request(&mut write, &Request::Export).await;
    let mut lines = BufReader::new(read);
    match (read_response(&mut lines, path).await, sent) {
        (Ok(Response::Ok(_)), _) => {}
        (Ok(Response::Error(e)), _) => return Err(broken(e)),
        (Err(_), Err(e)) => return Err(broken(e.to_string())),
        (Err(e), Ok(())) => return Err(e),
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await.map_err(|e| broken(e.to_string()))? == 0 {
            return Err(broken("the daemon closed the connection in the middle of the export".into()));
        }
        if line == b"\n" {
            break;
        }
        out.write_all(&line).await.map_err(ControlError::Output)?;
    }
    match read_response(&mut lines, path).await? {
        Response::Ok(v) => Ok(Some(v["srs"].as_u64().unwrap_or(0) as usize)),
        Response::Error(e) => Err(broken(e)),
    }
}
