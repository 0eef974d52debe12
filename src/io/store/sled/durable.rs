//! The durability barrier: what sled 0.34 guarantees, and how the store closes the gaps.
//!
//! Read against sled 0.34.7's source, its guarantees are:
//! - `Db::flush` writes sled's in-memory log buffers to the log file
//!   (`data_dir/db/db`) and calls `sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER)`
//!   on the written range (`pagecache/iobuf.rs`, `write_to_log`). That survives
//!   a crash of the process (the kernel has the data) but not a power cut:
//!   `sync_file_range` persists neither the file's size (the log grows) nor the
//!   disk's write cache, and on file systems such as FUSE it persists nothing.
//! - Only sled's background flusher calls `fsync`, every `flush_every_ms`.
//! - Values larger than a quarter of a segment (about 128 KiB) are "blobs",
//!   one file each under `db/blobs/`, written with no `fsync` at all
//!   (`pagecache/blob_io.rs`, `write_blob`).
//! - The configuration file `db/conf` is written once, at creation, without
//!   `fsync` (`config.rs`, `write_config`); snapshots are fsynced and renamed
//!   without syncing their folder.
//! - Recovery after a crash replays the log up to its first torn or invalid
//!   record, so what `fsync` made durable comes back whole.
//!
//! [`Barrier::sync`] therefore does, in this order: sled's `flush` (the buffers
//! reach the file), `fdatasync` of the log file through a handle of our own
//! (fsync acts on the file, not the descriptor: sled's writes are covered, and
//! `fdatasync` includes the size the log grew to), `fdatasync` of every blob
//! written since the last barrier, and `fsync` of the folders whose entries
//! changed. [`Barrier::open`] makes the files sled created at its first start
//! durable (configuration, log, folders). After `sync` returns, every write the
//! store accepted before the call survives a power cut; only then may a mail
//! be flagged, moved or expunged on the server.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::StoreError;

/// The barrier over one sled database in `data_dir/db`.
pub(super) struct Barrier {
    /// Our own handle on sled's log file.
    log: File,
    /// `data_dir/db`.
    db_dir: PathBuf,
    /// `data_dir/db/blobs`.
    blobs_dir: PathBuf,
    /// The blobs (by file name, their log sequence number) already synced and still present.
    synced_blobs: Mutex<HashSet<u64>>,
}

fn file_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::File(path.to_path_buf(), e)
}

/// `fsync` of a folder: its entries (files created, renamed or removed) survive a power cut.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| file_error(dir, e))
}

/// `fsync` of a file by path.
fn sync_file(path: &Path) -> Result<(), StoreError> {
    File::open(path).and_then(|f| f.sync_all()).map_err(|e| file_error(path, e))
}

impl Barrier {
    /// Makes what sled created at open durable and keeps a handle on its log.
    /// Call right after sled opened `data_dir/db`.
    pub(super) fn open(data_dir: &Path) -> Result<Barrier, StoreError> {
        let db_dir = data_dir.join("db");
        let log_path = db_dir.join("db");
        let log = File::open(&log_path).map_err(|e| file_error(&log_path, e))?;
        log.sync_all().map_err(|e| file_error(&log_path, e))?;
        let conf = db_dir.join("conf");
        if conf.exists() {
            sync_file(&conf)?;
        }
        let blobs_dir = db_dir.join("blobs");
        let barrier = Barrier { log, db_dir: db_dir.clone(), blobs_dir: blobs_dir.clone(), synced_blobs: Mutex::new(HashSet::new()) };
        // Blobs left by an earlier run may never have been synced: sync them all once.
        let left = barrier.unsynced_blobs()?;
        barrier.sync_blobs(left)?;
        for dir in [&blobs_dir, &db_dir, &data_dir.to_path_buf()] {
            if dir.exists() {
                sync_dir(dir)?;
            }
        }
        Ok(barrier)
    }

    /// Waits until every write accepted before the call is durable, power cut included.
    pub(super) fn sync(&self, db: &sled::Db) -> Result<(), StoreError> {
        // Listed before the flush: the flush waits for every write begun before it,
        // so each blob listed here is complete when the flush returns.
        let blobs = self.unsynced_blobs()?;
        db.flush()?;
        if crate::failpoint::armed!("barrier.skip_sync") {
            // Measuring what the rest costs (benchmarks only; never in a product build).
            return Ok(());
        }
        self.log.sync_data().map_err(|e| file_error(&self.db_dir.join("db"), e))?;
        self.sync_blobs(blobs)?;
        // Snapshots are renamed into `db/` by sled without a folder sync.
        sync_dir(&self.db_dir)
    }

    /// The blobs present and not yet synced (and the synced ones sled removed are forgotten).
    fn unsynced_blobs(&self) -> Result<Vec<u64>, StoreError> {
        let entries = match std::fs::read_dir(&self.blobs_dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(file_error(&self.blobs_dir, e)),
        };
        let mut present = HashSet::new();
        for entry in entries {
            let entry = entry.map_err(|e| file_error(&self.blobs_dir, e))?;
            if let Some(lsn) = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
                present.insert(lsn);
            }
        }
        let mut synced = self.synced_blobs.lock().unwrap_or_else(|p| p.into_inner());
        synced.retain(|lsn| present.contains(lsn));
        Ok(present.into_iter().filter(|lsn| !synced.contains(lsn)).collect())
    }

    /// `fdatasync` of `blobs`, then of their folder.
    fn sync_blobs(&self, blobs: Vec<u64>) -> Result<(), StoreError> {
        if blobs.is_empty() {
            return Ok(());
        }
        let mut done = Vec::with_capacity(blobs.len());
        for lsn in blobs {
            let path = self.blobs_dir.join(lsn.to_string());
            match File::open(&path).and_then(|f| f.sync_data()) {
                Ok(()) => done.push(lsn),
                // sled removes blobs it no longer needs: one may go between listing and opening.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(file_error(&path, e)),
            }
        }
        sync_dir(&self.blobs_dir)?;
        self.synced_blobs.lock().unwrap_or_else(|p| p.into_inner()).extend(done);
        Ok(())
    }
}
