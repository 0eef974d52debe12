//! The support policy: business hours, holidays and first-response targets.
//!
//! `rules/policy.toml` → [`Policy`]. Everything here is pure: the file is read
//! once at start-up, and every question ("is this business time?", "when is
//! the first response due?") takes the instant as a value.
//!
//! Business hours are civil times in the policy's time zone, so the windows
//! follow the daylight-saving switches: Monday 09:00 is 08:00Z in winter and
//! 07:00Z in summer. See rules/README.md for the file format.

use std::path::Path;
use std::time::Duration;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use toml::Spanned;
use toml::de::DeValue;

use crate::diag::{Diagnostic, Diagnostics};
use crate::rules::spans::{Sink, Span};
use crate::sr::Priority;

/// The weekday keys of `[hours]`, Monday first.
pub const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// How far ahead (in days) the next business window is looked for.
const SEARCH_DAYS: usize = 800;

/// The most business windows `add_business_time` walks through (about 150 years).
const MAX_WINDOWS: usize = 40_000;

/// A non-working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    /// The same day every year (`"12-25"`).
    Yearly {
        /// 1–12.
        month: i8,
        /// 1–31.
        day: i8,
    },
    /// One date (`"2026-04-06"`).
    Once(Date),
}

impl Holiday {
    /// Whether `date` is this holiday.
    pub fn falls_on(&self, date: Date) -> bool {
        match *self {
            Holiday::Yearly { month, day } => date.month() == month && date.day() == day,
            Holiday::Once(d) => d == date,
        }
    }
}

/// A first-response target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Elapsed time, around the clock (`"1h"` for a priority in `around_the_clock`).
    Clock(Duration),
    /// Business time only (`"4h"`, `"30m"`): the clock stops outside business hours.
    BusinessTime(Duration),
    /// Whole business days (`"1d"`): the same local clock time on the n-th next
    /// business day after the SR enters business time.
    BusinessDays(u32),
}

/// The validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    tz: TimeZone,
    tz_name: String,
    hours: [Option<(Time, Time)>; 7],
    holidays: Vec<Holiday>,
    targets: [Target; 4],
    lifecycle: Lifecycle,
}

/// The SR lifecycle knobs (`[lifecycle]` in the policy file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// Days after the first attempt (T0) at which the further attempts are due (default `[3, 7]`).
    #[serde(default = "default_attempt_days")]
    pub contact_attempt_days: Vec<u32>,
    /// Days after T0 at which an SR with every attempt unanswered is closed (default 10).
    #[serde(default = "default_close_after")]
    pub close_after_days: u32,
    /// Count those days as business days instead of calendar days (default false).
    #[serde(default)]
    pub business_days: bool,
    /// Days after closure during which a customer reply reopens the SR (default 30).
    #[serde(default = "default_reopen_window")]
    pub reopen_window_days: u32,
    /// Business days an SR must have been open before a customer may escalate it (P1: at once; default 1).
    #[serde(default = "default_escalation_after")]
    pub escalation_after_business_days: u32,
    /// Automated replies per sender address and hour (default 5).
    #[serde(default = "default_auto_reply_cap")]
    pub auto_replies_per_hour: u32,
}

fn default_attempt_days() -> Vec<u32> {
    vec![3, 7]
}
fn default_close_after() -> u32 {
    10
}
fn default_reopen_window() -> u32 {
    30
}
fn default_escalation_after() -> u32 {
    1
}
fn default_auto_reply_cap() -> u32 {
    5
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            contact_attempt_days: default_attempt_days(),
            close_after_days: default_close_after(),
            business_days: false,
            reopen_window_days: default_reopen_window(),
            escalation_after_business_days: default_escalation_after(),
            auto_replies_per_hour: default_auto_reply_cap(),
        }
    }
}

impl Policy {
    /// The policy used when no file says otherwise: Europe/Paris, Monday to
    /// Friday 09:00–18:30, 1 January and 25 December off, targets P1 1h around
    /// the clock, P2 4 business hours, P3 1 business day, P4 2 business days.
    pub fn standard() -> Policy {
        let tz = TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC);
        let window = Some((Time::constant(9, 0, 0, 0), Time::constant(18, 30, 0, 0)));
        Policy {
            tz,
            tz_name: "Europe/Paris".into(),
            hours: [window, window, window, window, window, None, None],
            holidays: vec![Holiday::Yearly { month: 1, day: 1 }, Holiday::Yearly { month: 12, day: 25 }],
            targets: default_targets(),
            lifecycle: Lifecycle::default(),
        }
    }

    /// Loads and validates the policy file at `path`.
    pub fn load(path: &Path) -> Result<Policy, Diagnostics> {
        let source =
            std::fs::read_to_string(path).map_err(|e| Diagnostics(vec![Diagnostic::in_file(path, format!("cannot read: {e}"))]))?;
        Policy::compile(path, &source)
    }

    /// Compiles policy text; `path` names it in diagnostics. Every problem is
    /// reported at once, each with its line.
    pub fn compile(path: &Path, source: &str) -> Result<Policy, Diagnostics> {
        let mut s = Sink::new(path, source);
        let Some(doc) = s.parse() else {
            return Err(Diagnostics(s.errors));
        };
        let mut policy = Policy::standard();
        let mut holidays_given = false;
        for (key, value) in doc.get_ref() {
            match &**key.get_ref() {
                "timezone" => {
                    if let Some(name) = s.value::<String>("timezone", value) {
                        match TimeZone::get(&name) {
                            Ok(tz) => {
                                policy.tz = tz;
                                policy.tz_name = name;
                            }
                            Err(e) => s.error(&value.span(), format!("`timezone`: unknown time zone `{name}`: {e}")),
                        }
                    }
                }
                "holidays" => {
                    holidays_given = true;
                    policy.holidays = compile_holidays(&mut s, value);
                }
                "hours" => policy.hours = compile_hours(&mut s, value),
                "first_response" => policy.targets = compile_targets(&mut s, value),
                "lifecycle" => {
                    if let Some(l) = s.value::<Lifecycle>("lifecycle", value) {
                        let increasing = l.contact_attempt_days.windows(2).all(|w| w[0] < w[1]);
                        let before_close = l.contact_attempt_days.last().is_none_or(|d| *d < l.close_after_days);
                        if !increasing || !before_close || l.contact_attempt_days.first() == Some(&0) {
                            s.error(
                                &value.span(),
                                "`lifecycle`: contact_attempt_days must increase, start above 0 and end before close_after_days",
                            );
                        }
                        policy.lifecycle = l;
                    }
                }
                other => s.error(
                    &key.span(),
                    format!("unknown key `{other}` (expected timezone, holidays, [hours], [first_response], [lifecycle])"),
                ),
            }
        }
        if !holidays_given {
            policy.holidays = Policy::standard().holidays;
        }
        if !s.errors.is_empty() {
            return Err(Diagnostics(s.errors));
        }
        Ok(policy)
    }

    /// The lifecycle knobs.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// `t0` plus `days` lifecycle days (calendar days, or business days when so configured).
    pub fn after_days(&self, t0: Timestamp, days: u32) -> Timestamp {
        if self.lifecycle.business_days {
            self.add_business_days(t0, days)
        } else {
            t0.checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days))).unwrap_or(t0)
        }
    }

    /// The start of business hours on `date` (or the next business day), in the policy's zone.
    pub fn business_start_on(&self, date: Date) -> Timestamp {
        let midnight = date.to_zoned_datetime(self.tz.clone()).map(|z| z.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH);
        self.next_business_start(midnight)
    }

    /// The policy's time zone.
    pub fn timezone(&self) -> &TimeZone {
        &self.tz
    }

    /// The IANA name of the policy's time zone (`"Europe/Paris"`).
    pub fn timezone_name(&self) -> &str {
        &self.tz_name
    }

    /// The business window of a weekday (0 = Monday), ignoring holidays.
    pub fn hours_of(&self, monday_zero: usize) -> Option<(Time, Time)> {
        self.hours.get(monday_zero).copied().flatten()
    }

    /// The holidays, as listed.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The first-response target of `priority`.
    pub fn target(&self, priority: Priority) -> Target {
        self.targets[priority_index(priority)]
    }

    /// Whether `date` (in the policy's zone) is a holiday.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.iter().any(|h| h.falls_on(date))
    }

    /// Whether `date` (in the policy's zone) has business hours: a working weekday, not a holiday.
    pub fn is_business_day(&self, date: Date) -> bool {
        self.window(date).is_some()
    }

    /// The local date of `t` in the policy's zone.
    pub fn local_date(&self, t: Timestamp) -> Date {
        self.date_of(t)
    }

    /// `date` at `time` in the policy's zone, as an instant.
    pub fn local_instant(&self, date: Date, time: Time) -> Timestamp {
        self.instant(date, time)
    }

    /// When business hours open on `date`, or `None` on a closed day.
    pub fn opening_on(&self, date: Date) -> Option<Timestamp> {
        self.window(date).map(|(open, _)| open)
    }

    /// The business window of `date` as instants, or `None` on a closed day.
    fn window(&self, date: Date) -> Option<(Timestamp, Timestamp)> {
        if self.is_holiday(date) {
            return None;
        }
        let idx = usize::try_from(date.weekday().to_monday_zero_offset()).ok()?;
        let (open, close) = self.hours_of(idx)?;
        Some((self.instant(date, open), self.instant(date, close)))
    }

    /// `date` at `time` in the policy's zone (the later instant in a gap).
    fn instant(&self, date: Date, time: Time) -> Timestamp {
        self.tz.to_ambiguous_timestamp(date.to_datetime(time)).compatible().unwrap_or(Timestamp::MAX)
    }

    /// The local date of `t`.
    fn date_of(&self, t: Timestamp) -> Date {
        self.tz.to_datetime(t).date()
    }

    /// The end of the business window that holds `t`, if any.
    fn window_end(&self, t: Timestamp) -> Option<Timestamp> {
        let (open, close) = self.window(self.date_of(t))?;
        (open <= t && t < close).then_some(close)
    }

    /// Whether `t` falls inside business hours: a working weekday that is not
    /// a holiday, at or after the opening time and strictly before the closing time.
    pub fn is_business_time(&self, t: Timestamp) -> bool {
        self.window_end(t).is_some()
    }

    /// `t` itself when it is business time, else the start of the next business
    /// window after `t`. When no business window exists in the next 800 days
    /// (a policy with every day closed), `t` is returned.
    pub fn next_business_start(&self, t: Timestamp) -> Timestamp {
        if self.is_business_time(t) {
            return t;
        }
        let mut date = self.date_of(t);
        for _ in 0..SEARCH_DAYS {
            if let Some((open, close)) = self.window(date)
                && t < close
            {
                return open.max(t);
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => return t,
            }
        }
        t
    }

    /// `t` plus `d` counted in business time only: the clock runs inside
    /// business windows and stops outside them. A zero `d` gives
    /// [`Policy::next_business_start`]; a `d` that ends exactly at a closing
    /// time gives that closing time.
    pub fn add_business_time(&self, t: Timestamp, d: Duration) -> Timestamp {
        let mut remaining = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
        let mut cur = self.next_business_start(t);
        for _ in 0..MAX_WINDOWS {
            let Some(end) = self.window_end(cur) else {
                return cur;
            };
            let available = cur.duration_until(end);
            if remaining <= available {
                return cur.checked_add(remaining).unwrap_or(Timestamp::MAX);
            }
            remaining -= available;
            cur = self.next_business_start(end);
        }
        Timestamp::MAX
    }

    /// `n` business days after `t`: from the first business instant at or after
    /// `t`, the same local clock time on the n-th next business day (clamped to
    /// that day's window when its hours are shorter). So a P3 created on
    /// Tuesday 10:15 is due Wednesday 10:15, one created on Saturday is due
    /// Tuesday 09:00 (Monday 09:00 plus one business day).
    pub fn add_business_days(&self, t: Timestamp, n: u32) -> Timestamp {
        let start = self.next_business_start(t);
        if n == 0 || !self.is_business_time(start) {
            return start;
        }
        let local = self.tz.to_datetime(start);
        let mut date = local.date();
        let mut left = n;
        for _ in 0..(SEARCH_DAYS * n as usize) {
            date = match date.tomorrow() {
                Ok(d) => d,
                Err(_) => return Timestamp::MAX,
            };
            if self.window(date).is_some() {
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
        let Some((open, close)) = self.window(date) else {
            return start;
        };
        let wanted = self.instant(date, local.time());
        wanted.clamp(open, close)
    }

    /// When the first CSE response to an SR of `priority` created at `created` is due.
    pub fn first_response_due(&self, priority: Priority, created: Timestamp) -> Timestamp {
        match self.target(priority) {
            Target::Clock(d) => SignedDuration::try_from(d).ok().and_then(|d| created.checked_add(d).ok()).unwrap_or(Timestamp::MAX),
            Target::BusinessTime(d) => self.add_business_time(created, d),
            Target::BusinessDays(n) => self.add_business_days(created, n),
        }
    }

    /// `t` in the policy's zone, for people: "Monday 2 March 2026, 09:00 CET".
    pub fn local_display(&self, t: Timestamp) -> String {
        display_in(t, &self.tz)
    }

    /// `t` in another zone (the customer's), same format as [`Policy::local_display`].
    pub fn local_display_in(&self, t: Timestamp, tz: &TimeZone) -> String {
        display_in(t, tz)
    }
}

/// "Monday 2 March 2026, 09:00 CET".
fn display_in(t: Timestamp, tz: &TimeZone) -> String {
    let zdt = t.to_zoned_datetime(tz.clone());
    jiff::fmt::strtime::format("%A %-d %B %Y, %H:%M %Z", &zdt).unwrap_or_else(|_| zdt.to_string())
}

fn default_targets() -> [Target; 4] {
    [
        Target::Clock(Duration::from_secs(3600)),
        Target::BusinessTime(Duration::from_secs(4 * 3600)),
        Target::BusinessDays(1),
        Target::BusinessDays(2),
    ]
}

fn priority_index(p: Priority) -> usize {
    match p {
        Priority::P1 => 0,
        Priority::P2 => 1,
        Priority::P3 => 2,
        Priority::P4 => 3,
    }
}

/// Parses `"09:00"` (hours 00–23, minutes 00–59).
fn parse_hhmm(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    Time::new(h, m, 0, 0).ok()
}

fn compile_hours(s: &mut Sink<'_>, value: &Spanned<DeValue<'_>>) -> [Option<(Time, Time)>; 7] {
    let mut hours = [None; 7];
    let Some(table) = s.table("hours", value) else {
        return hours;
    };
    for (key, v) in table {
        let name = key.get_ref().to_ascii_lowercase();
        let Some(idx) = WEEKDAYS.iter().position(|d| *d == name) else {
            s.error(&key.span(), format!("[hours]: unknown day `{}` (expected monday … sunday)", key.get_ref()));
            continue;
        };
        let Some(pair) = s.value::<Vec<String>>(&name, v) else {
            continue;
        };
        let [open, close] = pair.as_slice() else {
            s.error(&v.span(), format!("[hours] {name}: expected [\"HH:MM\", \"HH:MM\"] (opening, closing)"));
            continue;
        };
        match (parse_hhmm(open), parse_hhmm(close)) {
            (Some(o), Some(c)) if o < c => hours[idx] = Some((o, c)),
            (Some(_), Some(_)) => s.error(&v.span(), format!("[hours] {name}: opening {open} is not before closing {close}")),
            _ => s.error(&v.span(), format!("[hours] {name}: times must be \"HH:MM\" between 00:00 and 23:59")),
        }
    }
    if hours.iter().all(Option::is_none) {
        s.error(&value.span(), "[hours]: no day is open; give at least one weekday window");
    }
    hours
}

fn compile_holidays(s: &mut Sink<'_>, value: &Spanned<DeValue<'_>>) -> Vec<Holiday> {
    let DeValue::Array(items) = value.get_ref() else {
        s.error(&value.span(), "`holidays` must be an array of \"MM-DD\" or \"YYYY-MM-DD\" strings");
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(text) = s.value::<String>("holidays", item) else {
            continue;
        };
        match parse_holiday(&text) {
            Some(h) => out.push(h),
            None => s.error(&item.span(), format!("`holidays`: `{text}` is not a date (\"MM-DD\" every year, or \"YYYY-MM-DD\")")),
        }
    }
    out
}

fn parse_holiday(text: &str) -> Option<Holiday> {
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [m, d] if m.len() == 2 && d.len() == 2 => {
            let (month, day) = (m.parse().ok()?, d.parse().ok()?);
            // 2024 is a leap year, so 02-29 is accepted.
            Date::new(2024, month, day).ok()?;
            Some(Holiday::Yearly { month, day })
        }
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok().map(Holiday::Once)
        }
        _ => None,
    }
}

fn compile_targets(s: &mut Sink<'_>, value: &Spanned<DeValue<'_>>) -> [Target; 4] {
    let mut targets = default_targets();
    let Some(table) = s.table("first_response", value) else {
        return targets;
    };
    let mut around: Vec<Priority> = vec![Priority::P1];
    let mut given: Vec<(Priority, String, Span)> = Vec::new();
    for (key, v) in table {
        let k = key.get_ref();
        if k == "around_the_clock" {
            around.clear();
            for (name, span) in s.strings("around_the_clock", v) {
                match parse_priority(&name) {
                    Some(p) => around.push(p),
                    None => s.error(&span, format!("[first_response] around_the_clock: `{name}` is not a priority (P1 … P4)")),
                }
            }
            continue;
        }
        let Some(p) = parse_priority(k) else {
            s.error(&key.span(), format!("[first_response]: unknown key `{k}` (expected P1 … P4, around_the_clock)"));
            continue;
        };
        if let Some(text) = s.value::<String>(k, v) {
            given.push((p, text, v.span()));
        }
    }
    for p in [Priority::P1, Priority::P2, Priority::P3, Priority::P4] {
        let clock = around.contains(&p);
        let i = priority_index(p);
        match given.iter().find(|(q, _, _)| *q == p) {
            Some((_, text, span)) => match parse_target(text, clock) {
                Some(t) => targets[i] = t,
                None => s.error(span, format!("[first_response] {p:?}: `{text}` is not a target (examples: \"30m\", \"4h\", \"1d\")")),
            },
            None if clock => {
                // Re-read the default as clock time when only around_the_clock changed.
                targets[i] = match targets[i] {
                    Target::BusinessTime(d) => Target::Clock(d),
                    Target::BusinessDays(n) => Target::Clock(Duration::from_secs(86_400 * u64::from(n))),
                    other => other,
                };
            }
            None => {
                if let Target::Clock(d) = targets[i] {
                    targets[i] = Target::BusinessTime(d);
                }
            }
        }
    }
    targets
}

fn parse_priority(text: &str) -> Option<Priority> {
    match text {
        "P1" | "p1" => Some(Priority::P1),
        "P2" | "p2" => Some(Priority::P2),
        "P3" | "p3" => Some(Priority::P3),
        "P4" | "p4" => Some(Priority::P4),
        _ => None,
    }
}

/// `"4h"` → business time, `"1d"` → business days; around the clock, all are elapsed time.
fn parse_target(text: &str, around_the_clock: bool) -> Option<Target> {
    let t = text.trim();
    if let Some(days) = t.strip_suffix('d') {
        let n: u32 = days.trim().parse().ok()?;
        return Some(if around_the_clock { Target::Clock(Duration::from_secs(86_400 * u64::from(n))) } else { Target::BusinessDays(n) });
    }
    if !(t.ends_with('h') || t.ends_with('m')) {
        return None;
    }
    let d = crate::config::parse_duration(t)?;
    Some(if around_the_clock { Target::Clock(d) } else { Target::BusinessTime(d) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../rules/policy.toml");

    fn policy() -> Policy {
        Policy::compile(Path::new("rules/policy.toml"), SHIPPED).expect("shipped policy compiles")
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp literal")
    }

    const H: u64 = 3600;

    #[test]
    fn shipped_policy_loads() {
        let p = Policy::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/policy.toml"))).expect("loads");
        assert_eq!(p.timezone_name(), "Europe/Paris");
        assert_eq!(p.target(Priority::P1), Target::Clock(Duration::from_secs(H)));
        assert_eq!(p.target(Priority::P2), Target::BusinessTime(Duration::from_secs(4 * H)));
        assert_eq!(p.target(Priority::P3), Target::BusinessDays(1));
        assert_eq!(p.target(Priority::P4), Target::BusinessDays(2));
        assert!(p.hours_of(5).is_none() && p.hours_of(6).is_none());
        for d in [(1, 1), (5, 1), (12, 25), (12, 26)] {
            assert!(p.holidays().contains(&Holiday::Yearly { month: d.0, day: d.1 }), "{d:?}");
        }
    }

    #[test]
    fn weekday_edges_in_winter() {
        let p = policy();
        // Monday 2 March 2026, CET = UTC+1.
        assert!(!p.is_business_time(ts("2026-03-02T07:59:00Z")), "08:59");
        assert!(p.is_business_time(ts("2026-03-02T08:00:00Z")), "09:00");
        assert!(p.is_business_time(ts("2026-03-02T17:29:59Z")), "18:29:59");
        assert!(!p.is_business_time(ts("2026-03-02T17:30:00Z")), "18:30");
        assert_eq!(p.next_business_start(ts("2026-03-02T07:59:00Z")), ts("2026-03-02T08:00:00Z"));
        assert_eq!(p.next_business_start(ts("2026-03-02T10:00:00Z")), ts("2026-03-02T10:00:00Z"));
        assert_eq!(p.next_business_start(ts("2026-03-02T17:30:00Z")), ts("2026-03-03T08:00:00Z"));
    }

    #[test]
    fn weekday_edges_in_summer() {
        let p = policy();
        // Monday 8 June 2026, CEST = UTC+2.
        assert!(!p.is_business_time(ts("2026-06-08T06:59:00Z")));
        assert!(p.is_business_time(ts("2026-06-08T07:00:00Z")));
        assert!(p.is_business_time(ts("2026-06-08T16:29:00Z")));
        assert!(!p.is_business_time(ts("2026-06-08T16:30:00Z")));
    }

    #[test]
    fn friday_evening_to_monday_morning() {
        let p = policy();
        // Friday 6 March 2026 18:30 CET → Monday 9 March 09:00 CET.
        assert_eq!(p.next_business_start(ts("2026-03-06T17:30:00Z")), ts("2026-03-09T08:00:00Z"));
        assert!(!p.is_business_time(ts("2026-03-07T10:00:00Z")), "Saturday");
        assert!(!p.is_business_time(ts("2026-03-08T10:00:00Z")), "Sunday");
    }

    #[test]
    fn spring_daylight_saving_weekend() {
        let p = policy();
        // Friday 27 March 2026 19:00 CET → Monday 30 March 09:00 CEST = 07:00Z.
        let next = p.next_business_start(ts("2026-03-27T18:00:00Z"));
        assert_eq!(next, ts("2026-03-30T07:00:00Z"));
        assert_eq!(p.local_display(next), "Monday 30 March 2026, 09:00 CEST");
        // Friday 27 March 17:30 CET + 4 business hours: 1h Friday, 3h Monday → 12:00 CEST.
        assert_eq!(p.add_business_time(ts("2026-03-27T16:30:00Z"), Duration::from_secs(4 * H)), ts("2026-03-30T10:00:00Z"));
    }

    #[test]
    fn autumn_daylight_saving_weekend() {
        let p = policy();
        // Friday 23 October 2026 18:30 CEST (16:30Z) → Monday 26 October 09:00 CET = 08:00Z.
        assert!(p.is_business_time(ts("2026-10-23T16:29:00Z")));
        assert_eq!(p.next_business_start(ts("2026-10-23T16:30:00Z")), ts("2026-10-26T08:00:00Z"));
        // Sunday 25 October 02:30 happens twice; neither is business time.
        assert!(!p.is_business_time(ts("2026-10-25T00:30:00Z")));
        assert!(!p.is_business_time(ts("2026-10-25T01:30:00Z")));
        assert_eq!(p.local_display(ts("2026-10-26T08:00:00Z")), "Monday 26 October 2026, 09:00 CET");
    }

    #[test]
    fn holidays_are_closed() {
        let p = policy();
        // Christmas 2026 is a Friday and 26 December a Saturday → Monday 28 December.
        assert!(!p.is_business_time(ts("2026-12-25T10:00:00Z")));
        assert_eq!(p.next_business_start(ts("2026-12-24T17:30:00Z")), ts("2026-12-28T08:00:00Z"));
        // 1 January 2026 is a Thursday → Friday 2 January.
        assert!(!p.is_business_time(ts("2026-01-01T10:00:00Z")));
        assert_eq!(p.next_business_start(ts("2025-12-31T20:00:00Z")), ts("2026-01-02T08:00:00Z"));
        // 1 January 2027 is a Friday → Monday 4 January.
        assert_eq!(p.next_business_start(ts("2026-12-31T17:30:00Z")), ts("2027-01-04T08:00:00Z"));
    }

    #[test]
    fn full_date_holidays() {
        let src = "timezone = \"Europe/Paris\"\nholidays = [\"2026-04-06\"]\n[hours]\nmonday = [\"09:00\", \"18:30\"]\ntuesday = [\"09:00\", \"18:30\"]\n";
        let p = Policy::compile(Path::new("p.toml"), src).expect("valid");
        // Easter Monday 6 April 2026 is closed; Monday 13 April is open; 1 January is a working day here.
        assert!(!p.is_business_time(ts("2026-04-06T08:00:00Z")));
        assert!(p.is_business_time(ts("2026-04-13T08:00:00Z")));
        assert_eq!(p.next_business_start(ts("2026-04-06T08:00:00Z")), ts("2026-04-07T07:00:00Z"));
        assert!(!p.is_business_time(ts("2026-04-08T08:00:00Z")), "Wednesday is not listed");
    }

    #[test]
    fn business_time_is_counted_inside_windows_only() {
        let p = policy();
        // Monday 2 March 10:00 CET + 4h → 14:00 CET.
        assert_eq!(p.add_business_time(ts("2026-03-02T09:00:00Z"), Duration::from_secs(4 * H)), ts("2026-03-02T13:00:00Z"));
        // Monday 16:30 CET + 4h: 2h Monday, 2h Tuesday → Tuesday 11:00 CET.
        assert_eq!(p.add_business_time(ts("2026-03-02T15:30:00Z"), Duration::from_secs(4 * H)), ts("2026-03-03T10:00:00Z"));
        // Exactly to the closing time stays on the same day.
        assert_eq!(p.add_business_time(ts("2026-03-02T13:30:00Z"), Duration::from_secs(4 * H)), ts("2026-03-02T17:30:00Z"));
        // Saturday + 1h → Monday 10:00 CET.
        assert_eq!(p.add_business_time(ts("2026-03-07T12:00:00Z"), Duration::from_secs(H)), ts("2026-03-09T09:00:00Z"));
        // Zero → the next start.
        assert_eq!(p.add_business_time(ts("2026-03-07T12:00:00Z"), Duration::ZERO), ts("2026-03-09T08:00:00Z"));
    }

    #[test]
    fn first_response_targets() {
        let p = policy();
        let saturday_night = ts("2026-03-07T22:00:00Z");
        assert_eq!(p.first_response_due(Priority::P1, saturday_night), ts("2026-03-07T23:00:00Z"));
        assert_eq!(p.first_response_due(Priority::P2, saturday_night), ts("2026-03-09T12:00:00Z"));
        // P3 one business day: Monday 09:00 + 1 day → Tuesday 09:00.
        assert_eq!(p.first_response_due(Priority::P3, saturday_night), ts("2026-03-10T08:00:00Z"));
        // P4 two business days from Thursday 10:15 CET → Monday 10:15 CET.
        assert_eq!(p.first_response_due(Priority::P4, ts("2026-03-05T09:15:00Z")), ts("2026-03-09T09:15:00Z"));
        // P3 from Thursday 24 December 2026 11:00 CET: 25th and the weekend are closed → Monday 28th 11:00.
        assert_eq!(p.first_response_due(Priority::P3, ts("2026-12-24T10:00:00Z")), ts("2026-12-28T10:00:00Z"));
        // P3 across the spring switch keeps the local clock time: Friday 27 March 10:00 CET → Monday 30 March 10:00 CEST.
        assert_eq!(p.first_response_due(Priority::P3, ts("2026-03-27T09:00:00Z")), ts("2026-03-30T08:00:00Z"));
    }

    #[test]
    fn display_in_other_zones() {
        let p = policy();
        let t = ts("2026-03-02T08:00:00Z");
        assert_eq!(p.local_display(t), "Monday 2 March 2026, 09:00 CET");
        let ny = TimeZone::get("America/New_York").expect("tzdb");
        assert_eq!(p.local_display_in(t, &ny), "Monday 2 March 2026, 03:00 EST");
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let src = "timezone = \"Europe/Parsi\"\nholidays = [\"12-25\", \"13-01\"]\ncolour = 1\n[hours]\nmonday = [\"09:00\", \"18:30\"]\nmonnday = [\"09:00\", \"18:30\"]\ntuesday = [\"18:00\", \"09:00\"]\n[first_response]\nP2 = \"4 hours\"\nP5 = \"1h\"\n";
        let errs = Policy::compile(Path::new("policy.toml"), src).expect_err("invalid");
        let text = errs.to_string();
        for want in [
            "policy.toml:1: `timezone`",
            "policy.toml:2: `holidays`: `13-01`",
            "policy.toml:3: unknown key `colour`",
            "policy.toml:6: [hours]: unknown day `monnday`",
            "policy.toml:7: [hours] tuesday",
            "policy.toml:9: [first_response] P2",
            "policy.toml:10: [first_response]: unknown key `P5`",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert_eq!(errs.0.len(), 7, "{text}");
    }

    #[test]
    fn bad_toml_is_reported_with_its_line() {
        let errs = Policy::compile(Path::new("p.toml"), "timezone = \"Europe/Paris\"\n[hours\n").expect_err("invalid");
        assert_eq!(errs.0[0].line, Some(2), "{errs}");
    }

    #[test]
    fn around_the_clock_is_configurable() {
        let src = "[first_response]\nP1 = \"30m\"\nP2 = \"2h\"\naround_the_clock = [\"P1\", \"P2\"]\n";
        let p = Policy::compile(Path::new("p.toml"), src).expect("valid");
        assert_eq!(p.target(Priority::P1), Target::Clock(Duration::from_secs(1800)));
        assert_eq!(p.target(Priority::P2), Target::Clock(Duration::from_secs(2 * H)));
        let src = "[first_response]\naround_the_clock = []\n";
        let p = Policy::compile(Path::new("p.toml"), src).expect("valid");
        assert_eq!(p.target(Priority::P1), Target::BusinessTime(Duration::from_secs(H)));
    }
}
