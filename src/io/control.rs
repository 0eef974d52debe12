//! The control socket: how `srgate sr …` reaches a running daemon.
//!
//! sled lets one process open a store. While a daemon holds it, commands
//! connect to `data_dir/srgate.sock` and send one JSON request line; the
//! daemon answers with one JSON line. Without a daemon, commands open the
//! store themselves. Both paths run the same [`answer`] function.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::contacts::{Contact, ContactChange};
use crate::io::store::Store;
use crate::sr::State;

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
    /// Write a backup (see [`crate::backup`]) to a file.
    Export {
        /// The file to write (absolute).
        path: std::path::PathBuf,
    },
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

/// Answers a request from the store. Blocking: the daemon runs it on a blocking thread.
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
        Request::Export { path } => {
            let result = std::fs::File::create(path).map_err(crate::backup::BackupError::from).and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                crate::backup::export(store, &mut w)
            });
            return match result {
                Ok(n) => Response::Ok(serde_json::json!({"srs": n})),
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
                Ok(
                    serde_json::json!({"sha256": sha256, "size": bytes.len(), "base64": base64::engine::general_purpose::STANDARD.encode(bytes)}),
                )
            }
            None => Err(format!("no stored file {sha256}")),
        },
        Request::ContactsAdd { .. } | Request::ContactsRemove { .. } | Request::Export { .. } => Err("not a read request".into()),
    })();
    match result {
        Ok(v) => Response::Ok(v),
        Err(e) => Response::Error(e),
    }
}

/// Serves requests on `path` until `stop` fires.
pub async fn serve(path: &Path, store: Arc<Store>, mut stop: tokio::sync::watch::Receiver<bool>) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let store = store.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, &store).await {
                        tracing::debug!(error = %e, "control connection failed");
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
    let _ = std::fs::remove_file(path);
    Ok(())
}

async fn handle(stream: UnixStream, store: &Arc<Store>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let response = match serde_json::from_str::<Request>(&line) {
            Ok(req) => {
                let store = store.clone();
                tokio::task::spawn_blocking(move || answer(&store, &req))
                    .await
                    .unwrap_or_else(|e| Response::Error(format!("the request failed: {e}")))
            }
            Err(e) => Response::Error(format!("bad request: {e}")),
        };
        let mut out = serde_json::to_vec(&response).unwrap_or_default();
        out.push(b'\n');
        write.write_all(&out).await?;
    }
    Ok(())
}

/// Asks the daemon listening on `path`; `None` when no daemon answers.
pub async fn ask(path: &Path, req: &Request) -> Option<Response> {
    let stream = UnixStream::connect(path).await.ok()?;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(req).ok()?;
    line.push(b'\n');
    write.write_all(&line).await.ok()?;
    let mut lines = BufReader::new(read).lines();
    let reply = lines.next_line().await.ok()??;
    serde_json::from_str(&reply).ok()
}
