//! Language detection of a customer's new text (pure).
//!
//! [`detect`] asks whatlang for the language of the text and trusts it only
//! when the text is long enough and whatlang is confident; otherwise the
//! `Content-Language` header, when present, is taken as a hint. The answer is
//! an ISO 639-1 code ("en", "fr", "de", "it", "es", …).

/// Fewer letters than this and whatlang is not asked at all.
pub const MIN_LETTERS: usize = 20;

/// The lowest whatlang confidence (0.0–1.0) that is trusted.
pub const MIN_CONFIDENCE: f64 = 0.5;

/// The ISO 639-1 code of the language of `text`, or of the `content_language`
/// hint (its first two letters) when the text is too short or unclear.
///
/// Returns `None` when neither gives an answer.
pub fn detect(text: &str, content_language: Option<&str>) -> Option<String> {
    detect_text(text).map(str::to_string).or_else(|| content_language.and_then(hint))
}

/// How much text language detection reads: a few paragraphs decide, and long
/// mails (logs pasted in) would only cost time.
const SAMPLE_BYTES: usize = 4096;

/// The language whatlang finds in `text`, when it is reliable.
fn detect_text(text: &str) -> Option<&'static str> {
    let end = (0..=text.len().min(SAMPLE_BYTES)).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    let text = &text[..end];
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let info = whatlang::detect(text)?;
    if !info.is_reliable() || info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    iso_639_1(info.lang().code())
}

/// The first two letters of the first language of a `Content-Language` value
/// (`"fr-CH, en"` → `"fr"`), when they are letters.
fn hint(value: &str) -> Option<String> {
    let first = value.split(',').next()?.trim();
    let code: String = first.chars().take_while(|c| *c != '-' && *c != '_').collect::<String>().to_ascii_lowercase();
    (code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase())).then_some(code)
}

/// ISO 639-3 (as whatlang names languages) → ISO 639-1.
fn iso_639_1(code3: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("eng", "en"),
        ("fra", "fr"),
        ("deu", "de"),
        ("ita", "it"),
        ("spa", "es"),
        ("por", "pt"),
        ("nld", "nl"),
        ("epo", "eo"),
        ("rus", "ru"),
        ("cmn", "zh"),
        ("ben", "bn"),
        ("ukr", "uk"),
        ("kat", "ka"),
        ("ara", "ar"),
        ("hin", "hi"),
        ("jpn", "ja"),
        ("heb", "he"),
        ("yid", "yi"),
        ("pol", "pl"),
        ("amh", "am"),
        ("jav", "jv"),
        ("kor", "ko"),
        ("nob", "nb"),
        ("dan", "da"),
        ("swe", "sv"),
        ("fin", "fi"),
        ("tur", "tr"),
        ("hun", "hu"),
        ("ces", "cs"),
        ("ell", "el"),
        ("bul", "bg"),
        ("bel", "be"),
        ("mar", "mr"),
        ("kan", "kn"),
        ("ron", "ro"),
        ("slv", "sl"),
        ("hrv", "hr"),
        ("srp", "sr"),
        ("mkd", "mk"),
        ("lit", "lt"),
        ("lav", "lv"),
        ("est", "et"),
        ("tam", "ta"),
        ("vie", "vi"),
        ("urd", "ur"),
        ("tha", "th"),
        ("guj", "gu"),
        ("uzb", "uz"),
        ("pan", "pa"),
        ("aze", "az"),
        ("ind", "id"),
        ("tel", "te"),
        ("pes", "fa"),
        ("mal", "ml"),
        ("ori", "or"),
        ("mya", "my"),
        ("nep", "ne"),
        ("sin", "si"),
        ("khm", "km"),
        ("tuk", "tk"),
        ("aka", "ak"),
        ("zul", "zu"),
        ("sna", "sn"),
        ("afr", "af"),
        ("lat", "la"),
        ("slk", "sk"),
        ("cat", "ca"),
        ("tgl", "tl"),
        ("hye", "hy"),
        ("cym", "cy"),
    ];
    TABLE.iter().find(|(three, _)| *three == code3).map(|(_, two)| *two)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN: &str = "Hello, since this morning none of our users can connect to the VPN. \
        The client shows a timeout after the login page and we have already restarted the gateway twice. \
        Could you please look into it as soon as possible? Thank you.";
    const FR: &str = "Bonjour, depuis ce matin aucun de nos utilisateurs ne peut se connecter au VPN. \
        Le client affiche une erreur de délai après la page de connexion et nous avons déjà redémarré \
        la passerelle deux fois. Pourriez-vous regarder le problème rapidement ? Merci d'avance.";
    const DE: &str = "Guten Tag, seit heute Morgen kann sich keiner unserer Mitarbeiter mehr mit dem VPN verbinden. \
        Der Client zeigt nach der Anmeldeseite eine Zeitüberschreitung an und wir haben das Gateway bereits \
        zweimal neu gestartet. Könnten Sie sich das bitte schnell ansehen? Vielen Dank.";
    const IT: &str = "Buongiorno, da questa mattina nessuno dei nostri utenti riesce a collegarsi alla VPN. \
        Il client mostra un errore di timeout dopo la pagina di accesso e abbiamo già riavviato il gateway \
        due volte. Potreste verificare il problema al più presto? Grazie mille.";
    const ES: &str = "Buenos días, desde esta mañana ninguno de nuestros usuarios puede conectarse a la VPN. \
        El cliente muestra un error de tiempo de espera después de la página de inicio de sesión y ya hemos \
        reiniciado la pasarela dos veces. ¿Podrían revisarlo lo antes posible? Muchas gracias.";

    #[test]
    fn five_languages() {
        assert_eq!(detect(EN, None).as_deref(), Some("en"));
        assert_eq!(detect(FR, None).as_deref(), Some("fr"));
        assert_eq!(detect(DE, None).as_deref(), Some("de"));
        assert_eq!(detect(IT, None).as_deref(), Some("it"));
        assert_eq!(detect(ES, None).as_deref(), Some("es"));
    }

    #[test]
    fn text_wins_over_the_hint() {
        assert_eq!(detect(FR, Some("en-GB")).as_deref(), Some("fr"));
    }

    #[test]
    fn short_text_falls_back_to_the_hint() {
        assert_eq!(detect("Merci !", None), None);
        assert_eq!(detect("Merci !", Some("fr-CH, en")).as_deref(), Some("fr"));
        assert_eq!(detect("ok", Some("DE")).as_deref(), Some("de"));
        assert_eq!(detect("ok", Some("x")), None);
        assert_eq!(detect("", Some("123")), None);
    }
}
