//! Originals and attachments: content-addressed, appended to pack files.
//!
//! A fetched batch writes every file it has not stored before into the current
//! pack (`data_dir/files/packs/NNNNNNNN.pack`), in one append and one
//! `fdatasync` (plus an `fsync` of the folder when the pack is new), before any
//! commit that names the files is written: a crash leaves at most unreferenced
//! bytes at the end of a pack. Each entry is self-describing (a magic, the
//! length, the SHA-256, then the bytes), and the index (SHA-256 → pack, offset,
//! length) is written in the same transaction as the record that names the file.
//! A file is read back only if its bytes still hash to its name.
//!
//! One file per fetched mail would cost an `fsync` for the file and one for its
//! folder (about 0.5 ms each here), a third of ingestion; a pack costs one per batch.
//!
//! Stores written before packs existed keep their files as
//! `data_dir/files/<2 hex>/<sha256>`; they are still read from there.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::StoreError;
use super::durable::sync_dir;

/// Where a stored file's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The pack's number.
    pub pack: u32,
    /// Where the bytes start in it.
    pub offset: u64,
    /// How many.
    pub len: u64,
}

impl Location {
    /// The index value (20 bytes).
    pub(super) fn encode(&self) -> [u8; 20] {
        let mut v = [0u8; 20];
        v[..4].copy_from_slice(&self.pack.to_be_bytes());
        v[4..12].copy_from_slice(&self.offset.to_be_bytes());
        v[12..].copy_from_slice(&self.len.to_be_bytes());
        v
    }

    /// Reads an index value back.
    pub(super) fn decode(v: &[u8]) -> Option<Location> {
        Some(Location {
            pack: u32::from_be_bytes(v.get(..4)?.try_into().ok()?),
            offset: u64::from_be_bytes(v.get(4..12)?.try_into().ok()?),
            len: u64::from_be_bytes(v.get(12..20)?.try_into().ok()?),
        })
    }
}

/// The start of every pack entry.
const MAGIC: &[u8; 4] = b"SRGf";
/// Entry header: magic, length (8 bytes), SHA-256 (32 bytes).
const HEADER: u64 = 4 + 8 + 32;
/// A pack is closed once it holds this much; the next append starts a new one.
const PACK_LIMIT: u64 = 1 << 30;

/// The pack being appended to.
struct Pack {
    number: u32,
    file: File,
    len: u64,
}

/// The pack files of one data directory.
pub(super) struct Packs {
    /// `data_dir/files`.
    files_dir: PathBuf,
    /// `data_dir/files/packs`.
    dir: PathBuf,
    current: Mutex<Option<Pack>>,
}

fn file_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::File(path.to_path_buf(), e)
}

fn hex_to_bytes(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Packs {
    /// The packs under `data_dir/files` (nothing is opened until the first append).
    pub(super) fn new(data_dir: &Path) -> Packs {
        let files_dir = data_dir.join("files");
        Packs { dir: files_dir.join("packs"), files_dir, current: Mutex::new(None) }
    }

    fn pack_path(&self, number: u32) -> PathBuf {
        self.dir.join(format!("{number:08}.pack"))
    }

    /// Opens the newest pack for appending, or starts the first one.
    fn open_newest(&self) -> Result<Pack, StoreError> {
        if !self.dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir).map_err(|e| file_error(&self.dir, e))?;
            sync_dir(&self.files_dir)?;
            if let Some(parent) = self.files_dir.parent() {
                sync_dir(parent)?;
            }
        }
        let mut newest = 0;
        for entry in std::fs::read_dir(&self.dir).map_err(|e| file_error(&self.dir, e))? {
            let entry = entry.map_err(|e| file_error(&self.dir, e))?;
            let name = entry.file_name();
            let number = name.to_str().and_then(|n| n.strip_suffix(".pack")).and_then(|n| n.parse::<u32>().ok());
            newest = newest.max(number.unwrap_or(0));
        }
        self.open_pack(newest.max(1))
    }

    fn open_pack(&self, number: u32) -> Result<Pack, StoreError> {
        let path = self.pack_path(number);
        let existed = path.exists();
        use std::os::unix::fs::OpenOptionsExt;
        let file = File::options().create(true).append(true).read(true).mode(0o600).open(&path).map_err(|e| file_error(&path, e))?;
        if !existed {
            sync_dir(&self.dir)?;
        }
        let len = file.metadata().map_err(|e| file_error(&path, e))?.len();
        Ok(Pack { number, file, len })
    }

    /// Appends `items` (SHA-256 hex, bytes) and makes them durable; returns where each is.
    /// The caller leaves out what is already stored.
    pub(super) fn append(&self, items: &[(&str, &[u8])]) -> Result<Vec<(String, Location)>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let mut pack = match current.take() {
            Some(p) if p.len < PACK_LIMIT => p,
            Some(p) => self.open_pack(p.number + 1)?,
            None => self.open_newest()?,
        };
        if pack.len >= PACK_LIMIT {
            pack = self.open_pack(pack.number + 1)?;
        }
        let path = self.pack_path(pack.number);
        let mut out = Vec::with_capacity(items.len());
        let mut buffer = Vec::new();
        let mut offset = pack.len;
        for (sha, bytes) in items {
            let digest = hex_to_bytes(sha).ok_or_else(|| StoreError::Decode("files".into(), format!("not a SHA-256: {sha}")))?;
            buffer.extend_from_slice(MAGIC);
            buffer.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            buffer.extend_from_slice(&digest);
            buffer.extend_from_slice(bytes);
            out.push((sha.to_string(), Location { pack: pack.number, offset: offset + HEADER, len: bytes.len() as u64 }));
            offset += HEADER + bytes.len() as u64;
        }
        crate::failpoint::crash_point!("stage.before_write");
        let written = pack.file.write_all(&buffer).and_then(|()| {
            crate::failpoint::crash_point!("stage.before_sync");
            pack.file.sync_data()
        });
        match written {
            Ok(()) => {
                pack.len = offset;
                *current = Some(pack);
                Ok(out)
            }
            Err(e) => {
                // The pack's end is unknown now: reopen it (at its real length) next time.
                Err(file_error(&path, e))
            }
        }
    }

    /// The bytes at `loc`, checked against `sha256`.
    pub(super) fn read(&self, sha256: &str, loc: Location) -> Result<Vec<u8>, StoreError> {
        use std::os::unix::fs::FileExt;
        let path = self.pack_path(loc.pack);
        let file = File::open(&path).map_err(|e| file_error(&path, e))?;
        let len = usize::try_from(loc.len).map_err(|_| StoreError::Decode("files".into(), "length out of range".into()))?;
        let mut bytes = vec![0u8; len];
        file.read_exact_at(&mut bytes, loc.offset).map_err(|e| file_error(&path, e))?;
        check(sha256, bytes, &path)
    }

    /// A file of the layout before packs (`files/<2 hex>/<sha256>`), checked against its name.
    pub(super) fn read_legacy(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let shard = sha256.get(..2).unwrap_or("00");
        let path = self.files_dir.join(shard).join(sha256);
        match std::fs::read(&path) {
            Ok(b) => check(sha256, b, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(file_error(&path, e)),
        }
    }

    /// True when the layout before packs holds this file whole (its bytes hash to its name).
    pub(super) fn read_legacy_exists(&self, sha256: &str) -> bool {
        matches!(self.read_legacy(sha256), Ok(Some(_)))
    }

    /// The names of the files the layout before packs keeps (one file each, `files/ab/abcd…`).
    pub(super) fn legacy_names(&self) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.files_dir) else { return Ok(names) };
        for shard in shards.flatten() {
            if shard.file_name().len() != 2 || !shard.path().is_dir() {
                continue;
            }
            let files = std::fs::read_dir(shard.path()).map_err(|e| file_error(&shard.path(), e))?;
            for f in files.flatten() {
                let n = f.file_name().to_string_lossy().into_owned();
                if n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()) {
                    names.push(n);
                }
            }
        }
        Ok(names)
    }

    /// Removes the temporary files the layout before packs could leave behind.
    pub(super) fn sweep_legacy_temporaries(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        let Ok(shards) = std::fs::read_dir(&self.files_dir) else { return Ok(0) };
        for shard in shards.flatten() {
            let name = shard.file_name();
            if name.len() != 2 || !shard.path().is_dir() {
                continue;
            }
            let Ok(files) = std::fs::read_dir(shard.path()) else { continue };
            for f in files.flatten() {
                let n = f.file_name();
                let n = n.to_string_lossy();
                if n.starts_with('.') && n.ends_with(".tmp") {
                    std::fs::remove_file(f.path()).map_err(|e| file_error(&f.path(), e))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

fn check(sha256: &str, bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, StoreError> {
    let actual = crate::mail::inbound::sha256_hex(&bytes);
    if actual == sha256 {
        Ok(bytes)
    } else {
        Err(StoreError::Damaged(format!("{}: content for {sha256} hashes to {actual}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_files_read_back_and_damage_is_detected() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let packs = Packs::new(dir.path());
        let a = b"first attachment".to_vec();
        let b = b"second".to_vec();
        let (sa, sb) = (crate::mail::inbound::sha256_hex(&a), crate::mail::inbound::sha256_hex(&b));
        let placed = packs.append(&[(&sa, &a), (&sb, &b)])?;
        assert_eq!(packs.read(&sa, placed[0].1)?, a);
        assert_eq!(packs.read(&sb, placed[1].1)?, b);
        // A second store opened on the same folder appends after what is there.
        let again = Packs::new(dir.path());
        let c = b"third".to_vec();
        let sc = crate::mail::inbound::sha256_hex(&c);
        let later = again.append(&[(&sc, &c)])?;
        assert!(later[0].1.offset > placed[1].1.offset);
        assert_eq!(again.read(&sc, later[0].1)?, c);
        assert!(matches!(again.read(&sa, later[0].1), Err(StoreError::Damaged(_))));
        Ok(())
    }
}
