//! A real DNS server for the tests: dnsmasq on a free loopback port, one per test binary.
//!
//! It serves what a real site publishes for the stack's domains ([`super::DOMAINS`]):
//! the DKIM key the stack's OpenDKIM signs with (`sel._domainkey.<domain>`, read from
//! the stack's `dkim/sel.txt`), `_dmarc.<domain>` and SPF. It answers only for the
//! reserved test names (`example.test`, `example.com`, `example.net`, `example.org`,
//! `*.example`): anything else there is an NXDOMAIN, so a signature of an unknown
//! domain fails at once instead of waiting on a timeout.
//!
//! Every srgate configuration of a test asks it: put [`dns_resolver_line`] in the config.
//! A detached watchdog stops dnsmasq and removes its folder once the test binary has
//! exited, like the mail stack's.

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::{DOMAINS, stack, wait_until};

/// The DKIM selector of the stack's signatures.
pub const SELECTOR: &str = "sel";

/// The running test DNS server.
#[derive(Debug)]
pub struct Dns {
    /// Its folder: `dnsmasq.conf`, `dnsmasq.pid`, `dnsmasq.log` (queries logged).
    pub dir: PathBuf,
    /// UDP and TCP port on 127.0.0.1.
    pub port: u16,
}

static DNS: OnceLock<Result<Dns, String>> = OnceLock::new();

/// The DNS server of this test binary, started on first use (with the mail stack, whose key it serves).
pub fn dns() -> &'static Dns {
    match DNS.get_or_init(start) {
        Ok(d) => d,
        Err(e) => panic!("test DNS server unavailable: {e}"),
    }
}

/// `dns_resolver = "127.0.0.1:PORT"` and a newline: the line every test configuration needs,
/// so that srgate verifies DKIM signatures against this server.
pub fn dns_resolver_line() -> String {
    format!("dns_resolver = \"127.0.0.1:{}\"\n", dns().port)
}

/// A port free for both UDP and TCP on 127.0.0.1 (released before dnsmasq binds it).
fn free_port() -> Result<u16, String> {
    for _ in 0..20 {
        let tcp = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = tcp.local_addr().map_err(|e| e.to_string())?.port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no port free for both UDP and TCP".into())
}

/// `txt-record=NAME,"…","…"`: TXT strings are at most 255 bytes, a DKIM key is longer.
fn txt(name: &str, text: &str) -> String {
    let chunks: Vec<String> = text.as_bytes().chunks(250).map(|c| format!("\"{}\"", String::from_utf8_lossy(c))).collect();
    format!("txt-record={name},{}\n", chunks.join(","))
}

fn config(dir: &Path, port: u16, dkim_record: &str) -> String {
    let mut c = format!(
        "port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\nno-poll\nuser=root\n\
         pid-file={pid}\nlog-facility={log}\nlog-queries\n",
        pid = dir.join("dnsmasq.pid").display(),
        log = dir.join("dnsmasq.log").display(),
    );
    // Whole top-level domains: DMARC's tree walk asks `_dmarc.test` and `_dmarc.com` too.
    for zone in ["test", "com", "net", "org", "example"] {
        c += &format!("local=/{zone}/\n");
    }
    for domain in DOMAINS {
        c += &txt(&format!("{SELECTOR}._domainkey.{domain}"), dkim_record);
        c += &txt(&format!("_dmarc.{domain}"), "v=DMARC1; p=reject");
        c += &txt(domain, "v=spf1 ip4:127.0.0.1 -all");
    }
    c
}

fn start() -> Result<Dns, String> {
    let stack = stack();
    let dkim_record = std::fs::read_to_string(stack.dir.join("dkim/sel.txt")).map_err(|e| format!("the stack's DKIM record: {e}"))?;
    let dir = tempfile::Builder::new().prefix("srgate-dns-").tempdir_in("/tmp").map_err(|e| e.to_string())?.keep();
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        let conf = dir.join("dnsmasq.conf");
        std::fs::write(&conf, config(&dir, port, &dkim_record)).map_err(|e| e.to_string())?;
        let out = Command::new("dnsmasq")
            .arg(format!("--conf-file={}", conf.display()))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run dnsmasq ({e}); install it: apt-get install -y dnsmasq-base (scripts/test.sh does)"))?;
        let pid_file = dir.join("dnsmasq.pid");
        if out.status.success() && wait_until(Duration::from_secs(5), Duration::from_millis(20), || pid_file.exists()) {
            spawn_watchdog(&dir)?;
            eprintln!("dns: dnsmasq on 127.0.0.1:{port} ({})", dir.display());
            return Ok(Dns { dir, port });
        }
        last = format!("dnsmasq exited with {}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    Err(last)
}

/// Detached process that stops dnsmasq and removes `dir` once this test process is gone.
fn spawn_watchdog(dir: &Path) -> Result<(), String> {
    const WATCH: &str = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
        pid=$(cat "$2/dnsmasq.pid" 2>/dev/null)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
        [ "$3" = 1 ] || rm -rf "$2"
    "#;
    let keep = if std::env::var_os("SRGATE_MAILSTACK_KEEP").is_some_and(|v| v == "1") { "1" } else { "0" };
    Command::new("setsid")
        .args(["sh", "-c", WATCH, "srgate-dns-watchdog", &std::process::id().to_string()])
        .arg(dir)
        .arg(keep)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot spawn the DNS clean-up watchdog: {e}"))
}
