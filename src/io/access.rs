//! Who may reach the data directory and the control socket.
//!
//! Everything srgate keeps is private to the user it runs as: the process
//! creates files under the umask `077` ([`private_umask`], set first thing by
//! every command), so sled's own files are covered too; the data directory is
//! `0700` ([`secure_data_dir`] fixes a wider one, with a warning). With
//! `control_socket_group`, members of that group may use the control socket:
//! the data directory is then `0710` with that group (they may pass through it,
//! not list or read it) and the socket `0660`. Every peer of the socket is
//! checked again by its kernel credentials ([`peer_allowed`]).

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{Gid, Mode};

/// Mode of the data directory without a control-socket group.
pub const DATA_DIR_MODE: u32 = 0o700;
/// Mode of the data directory with a control-socket group: its members may traverse it.
pub const DATA_DIR_GROUP_MODE: u32 = 0o710;
/// Mode of every file srgate creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the control socket without a group.
pub const SOCKET_MODE: u32 = 0o600;
/// Mode of the control socket with a group.
pub const SOCKET_GROUP_MODE: u32 = 0o660;

pub use crate::config::Group;

/// Sets the process umask to `077`: every file and folder srgate creates from
/// now on (the store's, sled's, attachments, the lock, the socket, an export)
/// is readable by its owner alone, whatever umask srgate was started with.
pub fn private_umask() {
    rustix::process::umask(Mode::from_raw_mode(0o077));
}

/// The uid this process runs as.
pub fn own_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The group called `name`, from the system's group database (files, LDAP, … as NSS says).
pub fn lookup_group(name: &str) -> Result<Option<Group>, String> {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(Some(Group { name: g.name, gid: g.gid.as_raw() })),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("cannot read the group database: {e}")),
    }
}

/// True when the user `uid` belongs to group `gid` by the system's group database
/// (as its primary group or a supplementary one). Blocking: NSS may ask a server.
pub fn user_in_group(uid: u32, gid: u32) -> bool {
    let Ok(Some(user)) = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) else {
        return false;
    };
    if user.gid.as_raw() == gid {
        return true;
    }
    let Ok(name) = std::ffi::CString::new(user.name) else { return false };
    nix::unistd::getgrouplist(&name, user.gid).is_ok_and(|groups| groups.iter().any(|g| g.as_raw() == gid))
}

/// The kernel's word on who is at the other end of the control socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Its user.
    pub uid: u32,
    /// Its primary group.
    pub gid: u32,
}

/// Whether `peer` may use the control socket of a daemon running as `own_uid`:
/// root, the daemon's own user, and with a `group`, its members (`member` is
/// asked only when the peer's primary group is not the group already).
pub fn peer_allowed(peer: Peer, own_uid: u32, group: Option<u32>, member: impl FnOnce() -> bool) -> bool {
    if peer.uid == 0 || peer.uid == own_uid {
        return true;
    }
    match group {
        Some(gid) => peer.gid == gid || member(),
        None => false,
    }
}

/// The mode the data directory must have (see the module docs).
pub fn data_dir_mode(group: Option<&Group>) -> u32 {
    if group.is_some() { DATA_DIR_GROUP_MODE } else { DATA_DIR_MODE }
}

/// True when `mode` grants more than `allowed` (permission bits only).
pub fn wider(mode: u32, allowed: u32) -> bool {
    mode & 0o7777 & !allowed != 0
}

/// Creates `dir` (`0700`, or `0710` with `group`) when missing, or makes an existing
/// one so. When it was wider, every file in it becomes `0600` and every folder `0700`
/// (files written before srgate kept its data private); returns a warning to log
/// then. Blocking (a walk of the data directory, once).
pub fn secure_data_dir(dir: &Path, group: Option<&Group>) -> std::io::Result<Option<String>> {
    let mode = data_dir_mode(group);
    let err = |what: &str, e: std::io::Error| std::io::Error::new(e.kind(), format!("{what} {}: {e}", dir.display()));
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(DATA_DIR_MODE).create(dir).map_err(|e| err("cannot create", e))?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| err("cannot read", e))?;
    let current = meta.mode() & 0o7777;
    let mut warning = None;
    if wider(current, mode) {
        let fixed = make_private(dir).map_err(|e| err("cannot make private the files of", e))?;
        warning = Some(format!(
            "data_dir {} was mode {current:04o}, readable beyond srgate's user: made it {mode:04o} and {fixed} files and folders in it private",
            dir.display()
        ));
    }
    if let Some(g) = group.filter(|g| meta.gid() != g.gid) {
        rustix::fs::chown(dir, None, Some(Gid::from_raw(g.gid))).map_err(|e| {
            err(&format!("cannot give group {} (control_socket_group; srgate's user must be a member) to", g.name), e.into())
        })?;
    }
    if current != mode {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).map_err(|e| err("cannot change the mode of", e))?;
    }
    Ok(warning)
}

/// Every file under `dir` `0600`, every folder `0700` (not `dir` itself); the number changed.
fn make_private(dir: &Path) -> std::io::Result<usize> {
    let mut changed = 0;
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.file_type().is_symlink() {
                continue;
            }
            let target = if meta.is_dir() { DATA_DIR_MODE } else { FILE_MODE };
            if meta.is_dir() {
                folders.push(entry.path());
            }
            if wider(meta.mode(), target) {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(meta.mode() & target))?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_the_daemons_own_user_may_use_the_socket_others_only_through_the_group() {
        let never = || panic!("membership asked without need");
        assert!(peer_allowed(Peer { uid: 0, gid: 0 }, 998, None, never));
        assert!(peer_allowed(Peer { uid: 998, gid: 998 }, 998, None, never));
        assert!(!peer_allowed(Peer { uid: 1000, gid: 1000 }, 998, None, never));
        assert!(peer_allowed(Peer { uid: 1000, gid: 4242 }, 998, Some(4242), never));
        assert!(peer_allowed(Peer { uid: 1000, gid: 1000 }, 998, Some(4242), || true));
        assert!(!peer_allowed(Peer { uid: 1000, gid: 1000 }, 998, Some(4242), || false));
    }

    #[test]
    fn modes_wider_than_allowed() {
        assert!(!wider(0o700, DATA_DIR_MODE));
        assert!(!wider(0o500, DATA_DIR_MODE));
        assert!(wider(0o755, DATA_DIR_MODE));
        assert!(wider(0o710, DATA_DIR_MODE));
        assert!(!wider(0o710, DATA_DIR_GROUP_MODE));
        assert!(wider(0o750, DATA_DIR_GROUP_MODE));
        assert!(wider(0o644, FILE_MODE));
        assert!(wider(0o4700, DATA_DIR_MODE), "setuid is wider too");
    }

    #[test]
    fn a_wide_data_dir_is_made_private_with_its_files() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("data");
        std::fs::create_dir_all(dir.join("files/ab"))?;
        std::fs::write(dir.join("files/ab/abcd"), b"x")?;
        std::fs::write(dir.join("lock"), b"")?;
        for (p, m) in [(dir.clone(), 0o755), (dir.join("files"), 0o755), (dir.join("files/ab/abcd"), 0o644), (dir.join("lock"), 0o600)] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m))?;
        }
        let warning = secure_data_dir(&dir, None)?.ok_or("no warning for a wide data_dir")?;
        assert!(warning.contains("0755") && warning.contains("0700"), "{warning}");
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.mode() & 0o7777);
        assert_eq!(mode(&dir)?, 0o700);
        assert_eq!(mode(&dir.join("files"))?, 0o700);
        assert_eq!(mode(&dir.join("files/ab/abcd"))?, 0o600);
        assert_eq!(mode(&dir.join("lock"))?, 0o600);
        assert_eq!(secure_data_dir(&dir, None)?, None, "a private data_dir is left as it is, silently");
        let fresh = tmp.path().join("new/data");
        assert_eq!(secure_data_dir(&fresh, None)?, None);
        assert_eq!(mode(&fresh)?, 0o700);
        Ok(())
    }
}
