//! CSE commands: `#` lines at the top of a CSE's new text.
//!
//! ```text
//! #hold until 2026-12-20
//! #priority P2
//! Thanks, we will wait for the maintenance window.
//! ```
//! Parsing is total: every line that starts with `#` at the top must be a
//! valid command, else the whole message is refused with the list of errors.

use jiff::civil::Date;

use super::Priority;

/// One command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Respond and wait on the customer (the default).
    Wait,
    /// Respond but keep the SR on the CSE's side (no attempt counted).
    Open,
    /// Internal note: recorded, not relayed.
    Note,
    /// Hold for a number of days from processing.
    HoldFor(u32),
    /// Hold until a date.
    HoldUntil(Date),
    /// Close as resolved.
    Close,
    /// Change the priority.
    Priority(Priority),
    /// Give the SR to another CSE (address or name).
    Assign(String),
    /// Escalate with this business impact.
    Escalate(String),
    /// Add a designated contact.
    ContactAdd {
        /// Display name.
        name: String,
        /// Address.
        address: String,
        /// Phone, if given.
        phone: Option<String>,
    },
    /// Remove a designated contact.
    ContactRemove(String),
    /// Make an address a participant of the SR (it gets what the customer gets).
    CcAdd(String),
    /// Take an address off the SR's participants.
    CcRemove(String),
    /// Send a confirmation of what was done.
    Confirm,
    /// Open an SR for this customer (a phone call): in a new mail to the support address,
    /// whose subject is the SR's and whose text is the CSE's summary.
    New {
        /// The customer's display name, when given (`#new "Jane Roe" <jane@example.com>`).
        name: Option<String>,
        /// The customer's address, lower-cased.
        address: String,
    },
    /// Send me my open SRs (in a new mail to the support address).
    Queue,
}

impl Command {
    /// The command's word, as written (`#hold`).
    pub fn word(&self) -> &'static str {
        match self {
            Command::Wait => "#wait",
            Command::Open => "#open",
            Command::Note => "#note",
            Command::HoldFor(_) | Command::HoldUntil(_) => "#hold",
            Command::Close => "#close",
            Command::Priority(_) => "#priority",
            Command::Assign(_) => "#assign",
            Command::Escalate(_) => "#escalate",
            Command::ContactAdd { .. } | Command::ContactRemove(_) => "#contact",
            Command::CcAdd(_) | Command::CcRemove(_) => "#cc",
            Command::Confirm => "#confirm",
            Command::New { .. } => "#new",
            Command::Queue => "#queue",
        }
    }
}

/// The commands, as the CSE gets them listed after a mistake.
pub const HELP: &str = "\
#wait                          respond and wait on the customer (default)
#open                          respond, keep the SR on our side (no contact attempt counted)
#note                          internal note: recorded, not sent to the customer
#hold 14d                      hold for 14 days from now (no attempts, no closure)
#hold until 2026-12-20         hold until that date
#close                         close as resolved (the customer gets a closure notice)
#priority P1                   change the priority (the customer is told)
#assign <address or name>      give the SR to another engineer (history sent, customer told)
#escalate <business impact>    escalate to the escalation manager
#contact add Name <address> [phone]   add a designated contact for the customer's organisation
#contact remove <address>      remove a designated contact
#cc add <address>              copy someone on the SR from now on (they get what the customer gets)
#cc remove <address>           stop copying them
#confirm                       send me a confirmation of what was done

In a new mail to the support address (not on an SR):
#new customer@example.com      open an SR for this customer (a phone call): the subject is the SR's,
#new \"Name\" <address>          the text your summary; #priority and #assign may follow
#queue                         send me my open SRs (a mail with the subject \"queue\" does the same)";

/// The commands of a message and the text left for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// Commands in order.
    pub commands: Vec<Command>,
    /// One message per malformed or unknown command line.
    pub errors: Vec<String>,
    /// The text without the command lines.
    pub text: String,
}

/// Splits the `#` lines at the top of `text` (blank lines between them allowed) from the rest.
pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.peek() {
        let t = line.trim();
        if t.is_empty() {
            lines.next();
            continue;
        }
        if !t.starts_with('#') || t.starts_with("##") {
            break;
        }
        match parse_line(t) {
            Ok(c) => parsed.commands.push(c),
            Err(e) => parsed.errors.push(format!("{t}: {e}")),
        }
        lines.next();
    }
    parsed.text = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    parsed
}

fn parse_line(line: &str) -> Result<Command, String> {
    let body = line.trim_start_matches('#');
    let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let rest = rest.trim();
    let none = |c: Command| if rest.is_empty() { Ok(c) } else { Err(format!("#{word} takes no argument")) };
    match word.to_ascii_lowercase().as_str() {
        "wait" => none(Command::Wait),
        "open" => none(Command::Open),
        "note" => none(Command::Note),
        "close" => none(Command::Close),
        "confirm" => none(Command::Confirm),
        "hold" => parse_hold(rest),
        "priority" => match rest.to_ascii_uppercase().as_str() {
            "P1" => Ok(Command::Priority(Priority::P1)),
            "P2" => Ok(Command::Priority(Priority::P2)),
            "P3" => Ok(Command::Priority(Priority::P3)),
            "P4" => Ok(Command::Priority(Priority::P4)),
            _ => Err("write #priority P1, P2, P3 or P4".into()),
        },
        "assign" if !rest.is_empty() => Ok(Command::Assign(rest.trim_matches(['<', '>']).to_string())),
        "assign" => Err("#assign needs an address or a name".into()),
        "escalate" if !rest.is_empty() => Ok(Command::Escalate(rest.to_string())),
        "escalate" => Err("#escalate needs the business impact".into()),
        "contact" => parse_contact(rest),
        "cc" => parse_cc(rest),
        "new" => parse_new(rest),
        "queue" => none(Command::Queue),
        _ => Err(format!("unknown command #{word}")),
    }
}

fn parse_hold(rest: &str) -> Result<Command, String> {
    let usage = || "write #hold 14d or #hold until 2026-12-20".to_string();
    if let Some(date) = rest.strip_prefix("until") {
        return date.trim().parse::<Date>().map(Command::HoldUntil).map_err(|_| usage());
    }
    let days = rest.strip_suffix('d').unwrap_or(rest).trim();
    match days.parse::<u32>() {
        Ok(n) if (1..=366).contains(&n) => Ok(Command::HoldFor(n)),
        _ => Err(usage()),
    }
}

fn parse_contact(rest: &str) -> Result<Command, String> {
    let usage = "write #contact add Name <address> [phone] or #contact remove <address>";
    let (verb, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match verb {
        "add" => {
            let open = args.find('<').ok_or(usage)?;
            let close = args[open..].find('>').map(|i| open + i).ok_or(usage)?;
            let name = args[..open].trim();
            let address = args[open + 1..close].trim().to_ascii_lowercase();
            let phone = args[close + 1..].trim();
            if name.is_empty() || !address.contains('@') {
                return Err(usage.into());
            }
            Ok(Command::ContactAdd { name: name.into(), address, phone: (!phone.is_empty()).then(|| phone.to_string()) })
        }
        "remove" => {
            let address = args.trim().trim_matches(['<', '>']).to_ascii_lowercase();
            if address.contains('@') { Ok(Command::ContactRemove(address)) } else { Err(usage.into()) }
        }
        _ => Err(usage.into()),
    }
}

fn parse_new(rest: &str) -> Result<Command, String> {
    let usage = || "write #new customer@example.com or #new \"Name\" <customer@example.com>".to_string();
    let (name, address) = match (rest.find('<'), rest.rfind('>')) {
        (Some(open), Some(close)) if open < close && rest[close + 1..].trim().is_empty() => {
            let name = rest[..open].trim().trim_matches('"').trim();
            (Some(name).filter(|n| !n.is_empty()).map(str::to_string), rest[open + 1..close].trim())
        }
        (None, None) => (None, rest),
        _ => return Err(usage()),
    };
    let address = address.to_ascii_lowercase();
    if !is_address(&address) {
        return Err(usage());
    }
    Ok(Command::New { name, address })
}

/// True when `address` looks like one mailbox's address (`local@domain.tld`, nothing
/// around it): what `#new` and `srgate sr open` accept for a customer.
pub fn is_address(address: &str) -> bool {
    let shaped = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
    });
    shaped && !address.contains(|c: char| c.is_whitespace() || c.is_control() || "<>\",;:()[]\\".contains(c))
}

fn parse_cc(rest: &str) -> Result<Command, String> {
    let usage = "write #cc add <address> or #cc remove <address>";
    let (verb, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let address = args.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    if !address.contains('@') || address.contains(char::is_whitespace) {
        return Err(usage.into());
    }
    match verb {
        "add" => Ok(Command::CcAdd(address)),
        "remove" => Ok(Command::CcRemove(address)),
        _ => Err(usage.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_at_the_top_are_split_from_the_text() {
        let p = parse("#hold until 2026-12-20\n#priority p2\n\n#confirm\nThanks, we wait.\n#not a command here");
        assert_eq!(p.commands, vec![Command::HoldUntil(Date::constant(2026, 12, 20)), Command::Priority(Priority::P2), Command::Confirm]);
        assert!(p.errors.is_empty());
        assert_eq!(p.text, "Thanks, we wait.\n#not a command here");
    }

    #[test]
    fn every_command() {
        let cases = [
            ("#wait", Command::Wait),
            ("#open", Command::Open),
            ("#note", Command::Note),
            ("#close", Command::Close),
            ("#hold 14d", Command::HoldFor(14)),
            ("#hold 3", Command::HoldFor(3)),
            ("#assign Ann Smith", Command::Assign("Ann Smith".into())),
            ("#assign <ann@example.test>", Command::Assign("ann@example.test".into())),
            ("#escalate line stopped, 200 people idle", Command::Escalate("line stopped, 200 people idle".into())),
            (
                "#contact add Jane Roe <Jane@Acme.example.com> +33 1 23",
                Command::ContactAdd { name: "Jane Roe".into(), address: "jane@acme.example.com".into(), phone: Some("+33 1 23".into()) },
            ),
            ("#contact remove jane@acme.example.com", Command::ContactRemove("jane@acme.example.com".into())),
            ("#cc add <Boss@Acme.example.com>", Command::CcAdd("boss@acme.example.com".into())),
            ("#cc remove boss@acme.example.com", Command::CcRemove("boss@acme.example.com".into())),
            ("#new Jane@Example.com", Command::New { name: None, address: "jane@example.com".into() }),
            ("#new \"Jane Roe\" <jane@example.com>", Command::New { name: Some("Jane Roe".into()), address: "jane@example.com".into() }),
            ("#new Jean Dupont <jean@example.fr>", Command::New { name: Some("Jean Dupont".into()), address: "jean@example.fr".into() }),
            ("#new <jane@example.com>", Command::New { name: None, address: "jane@example.com".into() }),
            ("#queue", Command::Queue),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line).commands, vec![expected], "{line}");
        }
    }

    #[test]
    fn mistakes_are_reported() {
        for bad in [
            "#frobnicate",
            "#hold soon",
            "#priority P7",
            "#assign",
            "#escalate",
            "#contact add nobody",
            "#close now",
            "#cc add nobody",
            "#cc invite a@b.example",
            "#new",
            "#new jane",
            "#new jane@localhost",
            "#new a@b.example, c@d.example",
            "#new Jane <jane@example.com",
            "#new <jane@example.com> trailing",
            "#queue now",
        ] {
            let p = parse(bad);
            assert_eq!(p.errors.len(), 1, "{bad}");
            assert!(p.commands.is_empty(), "{bad}");
        }
    }

    #[test]
    fn plain_text_has_no_commands() {
        let p = parse("Hello,\n#1 is the first step.");
        assert!(p.commands.is_empty() && p.errors.is_empty());
        assert_eq!(p.text, "Hello,\n#1 is the first step.");
    }
}
