//! Issue 11, item 6 on the real stack: a locked-down local edge.
//!
//! Real users made for the test (`useradd`, removed at the end even when a test fails) run
//! the real `srgate` binary against a running daemon: the control socket and the data
//! directory are closed to them, open to a configured group's members, an export goes only
//! where its user may write, every file is private whatever the umask, and `/healthz` says
//! which mailbox fails and why in a few words, without logins or addresses.
//!
//! They need root (useradd, setpriv); without it they say so and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::Mutex;
use std::time::Duration;

use common::cli::Cli;
use common::config::StackTls;
use common::{MailStack, stack, wait_until};

/// useradd/groupadd lock /etc/passwd: one test at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn root() -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        eprintln!("skipped: making users for the test needs root");
    }
    root
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!("{prefix}{}x{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Users and groups left by an earlier run of these tests that was killed (its Drop guards
/// never ran): their names carry the pid of a process that is gone.
fn sweep_stale() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (db, prefix, del) in [("passwd", "srgu", "userdel"), ("group", "srgg", "groupdel")] {
            let out = Command::new("getent").arg(db).output().unwrap();
            for name in String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split(':').next()) {
                let Some(pid) = name.strip_prefix(prefix).and_then(|r| r.split('x').next()) else { continue };
                if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
                    let _ = Command::new(del).arg(name).output();
                }
            }
        }
    });
}

fn must(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A group made for the test; deleted when dropped (also when the test panics).
struct TestGroup(String);

impl TestGroup {
    fn create() -> TestGroup {
        sweep_stale();
        let name = unique("srgg");
        must(Command::new("groupadd").arg(&name));
        TestGroup(name)
    }

    /// Its number, from the group database.
    fn gid(&self) -> u32 {
        let out = Command::new("getent").args(["group", &self.0]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).split(':').nth(2).unwrap().trim().parse().unwrap()
    }
}

impl Drop for TestGroup {
    fn drop(&mut self) {
        let _ = Command::new("groupdel").arg(&self.0).output();
    }
}

/// An unprivileged user made for the test (no home, no shell); deleted when dropped.
struct TestUser(String);

impl TestUser {
    /// A new user, member of `groups` besides its own.
    fn create(groups: &[&str]) -> TestUser {
        sweep_stale();
        let name = unique("srgu");
        let mut cmd = Command::new("useradd");
        cmd.args(["--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group"]);
        if !groups.is_empty() {
            cmd.arg("--groups").arg(groups.join(","));
        }
        must(cmd.arg(&name));
        TestUser(name)
    }

    /// `PROGRAM ARGS…` run as this user with the groups the group database gives it.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        Command::new("setpriv")
            .arg(format!("--reuid={}", self.0))
            .arg(format!("--regid={}", self.0))
            .arg("--init-groups")
            .arg("--")
            .arg(program)
            .args(args)
            .output()
            .unwrap()
    }

    /// `srgate --config CONFIG ARGS…` run as this user.
    fn srgate(&self, config: &Path, args: &[&str]) -> Output {
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run(env!("CARGO_BIN_EXE_srgate"), &all)
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.0).output();
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A gateway's folder: config, data directory, daemon log. The folder itself is
/// passable by everybody (0755), so that only srgate's own modes guard `data`.
struct Desk {
    support: String,
    dir: tempfile::TempDir,
    metrics_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Desk {
    /// `extra` goes at the top of the config; `mailboxes` are `[[mailbox]]` sections.
    fn new(ms: &MailStack, extra: &str, mailboxes: &str) -> Desk {
        let support = ms.unique_domain_user("support");
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let metrics_port = free_port();
        let root = env!("CARGO_MANIFEST_DIR");
        // Over TLS, like every end-to-end test: the stack's lines replace the plain host and port.
        let lines = ms.srgate_lines().imap(StackTls::Starttls);
        let mailboxes = mailboxes.replace("SUPPORT", &support).replace("host = \"127.0.0.1\"\nport = IMAP_PORT\n", &lines.mailbox_lines());
        let config = format!(
            "{top}{extra}data_dir = \"data\"\nrules_dir = \"{root}/rules\"\ntemplates_dir = \"{root}/templates\"\nsupport_address = \"{support}\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n{smtp}retry_after = \"1s\"\n{mailboxes}[[cse]]\nname = \"Ann\"\nemail = \"{cse}\"\n",
            top = lines.top_level(),
            smtp = lines.smtp_section(),
            cse = ms.unique_domain_user("cse"),
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        std::fs::set_permissions(dir.path().join("srgate.toml"), std::fs::Permissions::from_mode(0o644)).unwrap();
        Desk { support, dir, metrics_port }
    }

    /// One mailbox, named `support`, on the stack's support address.
    fn standard(ms: &MailStack, extra: &str) -> Desk {
        Desk::new(
            ms,
            extra,
            "[[mailbox]]\nname = \"support\"\nhost = \"127.0.0.1\"\nport = IMAP_PORT\nusername = \"SUPPORT\"\npassword = \"secret\"\npoll_interval = \"1s\"\n",
        )
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("srgate.toml")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket(&self) -> PathBuf {
        self.data().join("srgate.sock")
    }

    fn srgate(&self, args: &[&str]) -> Output {
        Cli::in_dir(self.dir.path()).output(args)
    }

    /// The daemon, started under umask 022 (as a shell outside systemd would).
    fn daemon(&self) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("daemon.log")).unwrap();
        let child = Command::new("sh")
            .args(["-c", "umask 022; exec \"$0\" \"$@\""])
            .arg(env!("CARGO_BIN_EXE_srgate"))
            .arg("--config")
            .arg(self.config())
            .arg("run")
            .env("SRGATE_LOG", "info")
            .stderr(log)
            .spawn()
            .unwrap();
        assert!(
            wait_until(Duration::from_secs(20), Duration::from_millis(100), || self.log().contains("srgate running")),
            "the daemon did not start:\n{}",
            self.log()
        );
        child
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    fn http(&self, path: &str) -> Option<(u16, String)> {
        common::http_get(self.metrics_port, path)
    }

    fn srs(&self) -> usize {
        let out = self.srgate(&["sr", "list", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap().as_array().map_or(0, Vec::len)
    }
}

/// Stops the daemon with SIGTERM; kills it when dropped otherwise (a failing test).
struct Running(Option<Child>);

impl Running {
    fn stop(mut self) {
        let mut child = self.0.take().unwrap();
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        for _ in 0..300 {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "the daemon stopped with {status:?}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("the daemon did not stop within 15 s of SIGTERM");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn customer_mail(customer: &str, support: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {customer}\r\nTo: {support}\r\nSubject: {subject}\r\nMessage-ID: <{}>\r\n\r\nPlease help with {subject}.\r\n",
        customer.replace('@', ".id@")
    )
    .into_bytes()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// Every file and folder under `dir` (not `dir`), with its mode.
fn tree(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                folders.push(path.clone());
            }
            out.push((path, meta.is_dir(), meta.mode() & 0o7777));
        }
    }
    out
}

#[test]
fn another_user_can_neither_use_the_control_socket_nor_read_the_data() {
    let _one = serial();
    if !root() {
        return;
    }
    let ms = stack();
    let desk = Desk::standard(ms, "");
    let daemon = Running(Some(desk.daemon()));
    let stranger = TestUser::create(&[]);

    // The stranger can read the config (0644 here) but reaches neither the socket nor the store.
    let out = stranger.srgate(&desk.config(), &["sr", "list"]);
    assert!(!out.status.success());
    let why = stderr(&out);
    assert!(why.contains("control socket") && why.contains("Permission denied"), "{why}");
    for args in [&["ls", desk.data().to_str().unwrap()][..], &["cat", desk.data().join("lock").to_str().unwrap()][..]] {
        let out = stranger.run(args[0], &args[1..]);
        assert!(!out.status.success() && stderr(&out).contains("Permission denied"), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(mode(&desk.data()), 0o700);
    assert_eq!(mode(&desk.socket()), 0o600);

    // Even when the socket is opened to everybody by mistake, the daemon checks who is
    // calling (SO_PEERCRED) and refuses the stranger, with a warning naming the uid.
    std::fs::set_permissions(desk.data(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(desk.socket(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = stranger.srgate(&desk.config(), &["sr", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("refused: you may not use this control socket"), "{}", stderr(&out));
    assert!(
        wait_until(Duration::from_secs(5), Duration::from_millis(100), || desk.log().contains("control socket: refused a connection")),
        "{}",
        desk.log()
    );
    // Root still may.
    assert_eq!(desk.srs(), 0);
    daemon.stop();
}

/// A group, a user in it, and a desk whose control socket that group may use.
fn group_desk(ms: &MailStack) -> (TestGroup, TestUser, Desk) {
    let group = TestGroup::create();
    let member = TestUser::create(&[&group.0]);
    let desk = Desk::standard(ms, &format!("control_socket_group = \"{}\"\n", group.0));
    (group, member, desk)
}

#[test]
fn members_of_the_control_socket_group_may_use_it_others_may_not() {
    let _one = serial();
    if !root() {
        return;
    }
    let ms = stack();
    let (group, member, desk) = group_desk(ms);
    let stranger = TestUser::create(&[]);
    let out = desk.srgate(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Watch data_dir while the daemon starts: the socket's name must appear only by a
    // rename, already 0660 with the group (never created there, never changed there).
    std::fs::create_dir(desk.data()).unwrap();
    use rustix::fs::inotify;
    let events = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC).unwrap();
    let flags = inotify::WatchFlags::CREATE | inotify::WatchFlags::MOVED_TO | inotify::WatchFlags::ATTRIB;
    inotify::add_watch(&events, desk.data(), flags).unwrap();
    let daemon = Running(Some(desk.daemon()));
    let mut buf = [std::mem::MaybeUninit::uninit(); 8192];
    let mut reader = inotify::Reader::new(&events, &mut buf);
    let mut socket_events = Vec::new();
    while let Ok(e) = reader.next() {
        if e.file_name().is_some_and(|n| n.to_bytes() == b"srgate.sock") {
            socket_events.push(e.events());
        }
    }
    assert_eq!(socket_events, [inotify::ReadFlags::MOVED_TO], "the socket's name appeared otherwise than by a rename");
    let gid = |p: &Path| std::fs::metadata(p).unwrap().gid();
    assert_eq!((mode(&desk.data()), gid(&desk.data())), (0o710, group.gid()));
    assert_eq!((mode(&desk.socket()), gid(&desk.socket())), (0o660, group.gid()));

    let customer = ms.unique_user_at("grp", "example.com");
    ms.append(&desk.support, "INBOX", &customer_mail(&customer, &desk.support, "group access"));
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(200), || desk.srs() == 1), "{}", desk.log());

    // A member lists SRs through the daemon (its primary group is its own: the daemon asks
    // the group database), but cannot list or read the data directory.
    let out = member.srgate(&desk.config(), &["sr", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["customer"], customer.as_str());
    let out = member.run("ls", &[desk.data().to_str().unwrap()]);
    assert!(!out.status.success(), "a member lists data_dir: {}", String::from_utf8_lossy(&out.stdout));
    let out = member.run("cat", &[desk.data().join("lock").to_str().unwrap()]);
    assert!(!out.status.success());

    // Somebody else may not.
    let out = stranger.srgate(&desk.config(), &["sr", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Permission denied"), "{}", stderr(&out));
    daemon.stop();
    assert!(!desk.socket().exists(), "the socket is removed when the daemon stops");
}

#[test]
fn an_oversize_or_stalled_request_is_cut_off_and_the_daemon_keeps_answering() {
    let _one = serial();
    let ms = stack();
    let desk = Desk::standard(ms, "");
    let daemon = Running(Some(desk.daemon()));

    // A connection that sends nothing is closed after the request timeout; others are served meanwhile.
    let mut idle = std::os::unix::net::UnixStream::connect(desk.socket()).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let started = std::time::Instant::now();

    let mut big = std::os::unix::net::UnixStream::connect(desk.socket()).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let line = format!("{{\"request\":\"sr_show\",\"id\":1,\"pad\":\"{}\"}}\n", "x".repeat(100 * 1024));
    let _ = big.write_all(line.as_bytes());
    let mut reader = std::io::BufReader::new(big);
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut reader, &mut answer).unwrap();
    assert!(answer.contains("\"error\"") && answer.contains("at most 65536 bytes"), "{answer}");
    // Then the connection is closed (an end, or a reset: the daemon left the rest of the line unread).
    let mut more = String::new();
    assert!(!matches!(std::io::BufRead::read_line(&mut reader, &mut more), Ok(n) if n > 0), "more after the error: {more}");
    assert_eq!(desk.srs(), 0, "the daemon keeps answering");

    let mut rest = Vec::new();
    let closed = idle.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(closed.is_ok() && rest.is_empty(), "{closed:?} {rest:?}");
    assert!(waited >= Duration::from_secs(8) && waited < Duration::from_secs(25), "closed after {waited:?}");
    assert_eq!(desk.srs(), 0);
    daemon.stop();
}

#[test]
fn an_export_goes_only_where_its_user_may_write_and_round_trips() {
    let _one = serial();
    if !root() {
        return;
    }
    let ms = stack();
    let (_group, member, desk) = group_desk(ms);
    let daemon = Running(Some(desk.daemon()));
    for i in 0..3 {
        let customer = ms.unique_user_at(&format!("exp{i}"), "example.com");
        ms.append(&desk.support, "INBOX", &customer_mail(&customer, &desk.support, &format!("export {i}")));
    }
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(200), || desk.srs() == 3), "{}", desk.log());

    // A user who may ask the daemon but not write in /etc gets a clear error, and nothing is created.
    let forbidden = Path::new("/etc/srgate-test-export");
    let _ = std::fs::remove_file(forbidden);
    let out = member.srgate(&desk.config(), &["export", "--output", forbidden.to_str().unwrap()]);
    assert!(!out.status.success());
    let why = stderr(&out);
    assert!(why.contains("cannot write the export to /etc/srgate-test-export") && why.contains("Permission denied"), "{why}");
    assert!(!forbidden.exists(), "the export created {}", forbidden.display());
    // The member may export where it may write (its own standard output).
    let out = member.srgate(&desk.config(), &["export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("{\"type\":\"sr\"")).count(), 3);

    // Root's export to a file works while the daemon runs; the file is private.
    let first = desk.dir.path().join("first.jsonl");
    let out = desk.srgate(&["export", "--output", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("exported 3 SRs"), "{}", stderr(&out));
    assert_eq!(mode(&first), 0o600);
    assert!(!tree(&desk.data()).iter().any(|(p, _, _)| p.to_string_lossy().contains("export")), "nothing staged in data_dir");
    daemon.stop();

    // It round-trips: import into an empty data directory, export again (no daemon: from the store).
    let copy = desk.dir.path().join("restore.toml");
    std::fs::write(&copy, std::fs::read_to_string(desk.config()).unwrap().replace("data_dir = \"data\"", "data_dir = \"data2\"")).unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_srgate")).arg("--config").arg(&copy).args(args).output().unwrap();
    let out = run(&["import", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let second = desk.dir.path().join("second.jsonl");
    let out = run(&["export", "--output", second.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (a, b) = (std::fs::read_to_string(&first).unwrap(), std::fs::read_to_string(&second).unwrap());
    assert_eq!(a.lines().filter(|l| l.starts_with("{\"type\":\"sr\"")).count(), 3);
    assert!(a == b, "the round trip changed the export");
}

#[test]
fn every_file_is_private_after_a_run_under_umask_022_and_a_wide_data_dir_is_narrowed() {
    let _one = serial();
    let ms = stack();
    let desk = Desk::standard(ms, "");
    // A data directory left wide open by an older srgate.
    std::fs::create_dir_all(desk.data().join("files/ab")).unwrap();
    std::fs::write(desk.data().join("files/ab/old"), b"old attachment").unwrap();
    for (p, m) in [(desk.data(), 0o755), (desk.data().join("files"), 0o755), (desk.data().join("files/ab/old"), 0o644)] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    let daemon = Running(Some(desk.daemon()));
    assert!(desk.log().contains("was mode 0755"), "{}", desk.log());
    let customer = ms.unique_user_at("modes", "example.com");
    let raw = format!(
        "From: {customer}\r\nTo: {s}\r\nSubject: with a file\r\nMessage-ID: <modes.{customer}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the log.\r\n--b\r\nContent-Type: application/octet-stream; name=log.bin\r\nContent-Disposition: attachment; filename=log.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJDREVG\r\n--b--\r\n",
        s = desk.support
    );
    ms.append(&desk.support, "INBOX", raw.as_bytes());
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(200), || desk.srs() == 1), "{}", desk.log());
    let check = |when: &str| {
        assert_eq!(mode(&desk.data()), 0o700, "{when}");
        let all = tree(&desk.data());
        assert!(all.iter().filter(|(_, dir, _)| !dir).count() >= 5, "{all:?}");
        for (path, dir, m) in all {
            assert_eq!(m, if dir { 0o700 } else { 0o600 }, "{when}: {} is {m:04o}", path.display());
        }
    };
    check("while the daemon runs");
    daemon.stop();
    check("after the daemon stopped");
}

#[test]
fn healthz_names_a_failing_mailbox_by_position_and_reason_without_login_or_address() {
    let _one = serial();
    let ms = stack();
    let wrong = "not-the-Password-42";
    let desk = Desk::new(
        ms,
        "",
        &format!(
            "[[mailbox]]\nhost = \"127.0.0.1\"\nport = IMAP_PORT\nusername = \"SUPPORT\"\npassword = \"{wrong}\"\npoll_interval = \"1s\"\n[[mailbox]]\nhost = \"127.0.0.1\"\nport = IMAP_PORT\nusername = \"SUPPORT\"\nfolder = \"Other\"\npassword = \"secret\"\npoll_interval = \"1s\"\n"
        ),
    );
    ms.create_folder(&desk.support, "Other");
    let daemon = Running(Some(desk.daemon()));
    let mut body = String::new();
    assert!(
        wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
            body = desk.http("/healthz").map(|(_, b)| b).unwrap_or_default();
            body.contains("mailbox-1: login refused")
        }),
        "{body}\n{}",
        desk.log()
    );
    let (status, body) = desk.http("/healthz").unwrap();
    assert_eq!(status, 503);
    for secret in [desk.support.as_str(), "127.0.0.1", &ms.imap_port.to_string(), wrong] {
        assert!(!body.contains(secret), "/healthz shows {secret:?}: {body}");
    }
    // The second, unnamed mailbox reads mail under its position's name in the metrics,
    // and is healthy (Dovecot slows logins from an address that failed: give it time).
    let customer = ms.unique_user_at("health", "example.com");
    ms.append(&desk.support, "Other", &customer_mail(&customer, &desk.support, "health"));
    assert!(wait_until(Duration::from_secs(60), Duration::from_millis(200), || desk.srs() == 1), "{}", desk.log());
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(200), || desk
            .http("/healthz")
            .is_some_and(|(_, b)| b == "mailbox mailbox-1: login refused\n")),
        "{:?}\n{}",
        desk.http("/healthz"),
        desk.log()
    );
    let (_, metrics) = desk.http("/metrics").unwrap();
    assert!(metrics.contains("srgate_mail_read_total{mailbox=\"mailbox-2\"} 1"), "{metrics}");
    assert!(!metrics.contains(&desk.support), "{metrics}");
    daemon.stop();
    // The log has the full error (the login name), never the password.
    let log = desk.log();
    assert!(log.contains("mailbox-1") && log.contains(&desk.support), "{log}");
    assert!(!log.contains(wrong), "the password is in the log");
}
