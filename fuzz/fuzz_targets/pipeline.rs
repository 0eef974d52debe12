//! Fuzz target: any bytes through parse → classify → thread → strip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use srgate::mail::{classify, inbound, quote, thread};

fuzz_target!(|raw: &[u8]| {
    let Ok(mail) = inbound::parse(raw) else { return };
    let c = classify::classify(&mail, |id| id.starts_with("sr"), "support@example.test");
    let _ = c.class.is_machine();
    let _ = thread::clean_subject(&mail.subject);
    let _ = thread::token_in(&mail.subject);
    let _ = thread::tokens_in(&mail.new_text);
    let _ = thread::marker_in(&mail.text, "a1b2c3d4e5f6");
    let _ = quote::new_text(&mail.text);
    let _ = quote::new_text_from_html(&mail.text);
});
