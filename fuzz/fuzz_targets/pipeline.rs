//! Fuzz target: any bytes through parse → classify → thread → strip
//! (`srgate::mail::read_path`, the path the gateway runs on every mail).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let _ = srgate::mail::read_path(raw);
});
