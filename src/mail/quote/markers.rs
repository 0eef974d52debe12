//! Lines from which everything below is history: separators (`-----Original
//! Message-----` and its translations and decorations), header blocks
//! (`From:/Sent:` in many languages and orders), forward markers, signatures,
//! mobile footers and mailing-list footers.

use super::{Line, MAX_BLANK_LOOKAHEAD, Rule};

/// Everything from line `i` on is not the writer's new text: why.
pub(super) fn hard_stop(lines: &[Line], i: usize) -> Option<Rule> {
    let line = lines.get(i)?;
    if is_signature(line.raw) || is_mobile_footer(&line.norm) {
        return Some(Rule::Signature);
    }
    if is_outlook_separator(&line.norm) || rule_before_header_block(lines, i) {
        return Some(Rule::Separator);
    }
    if is_forward_marker(&line.norm) {
        return Some(Rule::Forward);
    }
    if header_block_at(lines, i) {
        return Some(Rule::HeaderBlock);
    }
    if list_footer_at(lines, i) {
        return Some(Rule::ListFooter);
    }
    None
}

fn is_signature(raw: &str) -> bool {
    raw.trim_end() == "--"
}

const MOBILE_FOOTERS: &[&str] = &[
    "sent from my ",
    "sent from outlook",
    "sent from mail for windows",
    "sent from yahoo mail",
    "sent from samsung",
    "get outlook for ",
    "envoyé de mon ",
    "envoyé depuis mon ",
    "envoyé à partir de ",
    "télécharger outlook pour ",
    "outlook für ",
    "inviato da ",
    "inviato dal mio ",
    "scarica outlook per ",
    "enviado desde mi ",
    "enviado desde ",
    "obtener outlook para ",
    "enviado do meu ",
    "verzonden vanaf mijn ",
    "verstuurd vanaf mijn ",
    "skickat från min ",
    "sendt fra min ",
    "从我的iphone发送",
    "iphoneから送信",
];

fn is_mobile_footer(n: &str) -> bool {
    if n.is_empty() || n.len() > 80 || n.split_whitespace().count() > 6 {
        return false;
    }
    (n.starts_with("von meinem ") && n.trim_end_matches('.').ends_with("gesendet")) || MOBILE_FOOTERS.iter().any(|p| n.starts_with(p))
}

/// The text between the dashes of a `----- Phrase -----` line (also `*`-decorated), if it is one.
pub(super) fn dashed_phrase(n: &str) -> Option<&str> {
    let core = n.trim_matches(['*', ' ']);
    if n.len() > 120 || !(core.starts_with("--") || core.starts_with("==") || core.starts_with("__")) {
        return None;
    }
    Some(core.trim_matches(|c: char| c == '-' || c == '=' || c == '_' || c == ' ').trim_end_matches([':', '：']).trim())
}

const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "reply message",
    "ursprüngliche nachricht",
    "original nachricht",
    "originalnachricht",
    "antwort nachricht",
    "message d'origine",
    "messaggio originale",
    "mensaje original",
    "oorspronkelijk bericht",
    "originalmeddelande",
    "ursprungligt meddelande",
    "opprinnelig melding",
    "oprindelig meddelelse",
    "oprindelig besked",
    "mensagem original",
    "wiadomość oryginalna",
    "oryginalna wiadomość",
    "alkuperäinen viesti",
    "původní zpráva",
    "původní e-mail",
    "исходное сообщение",
    "özgün ileti",
    "özgün i\u{307}leti",
    "orijinal mesaj",
    "원본 메시지",
    "原始邮件",
    "原始郵件",
    "元のメッセージ",
];

pub(super) fn is_outlook_separator(n: &str) -> bool {
    dashed_phrase(n).is_some_and(|p| ORIGINAL_MESSAGE.contains(&p))
}

const FORWARD_DASHED: &[&str] = &[
    "forwarded message",
    "forward message",
    "weitergeleitete nachricht",
    "message transféré",
    "message transfere",
    "messaggio inoltrato",
    "mensaje reenviado",
    "doorgestuurd bericht",
    "mensagem encaminhada",
    "videresendt melding",
    "videresendt meddelelse",
    "vidarebefordrat meddelande",
    "wiadomość przekazana dalej",
    "пересылаемое сообщение",
    "转发的邮件",
    "轉寄的郵件",
    "転送されたメッセージ",
];

const FORWARD_COLON: &[&str] = &[
    "begin forwarded message",
    "anfang der weitergeleiteten nachricht",
    "anfang der weitergeleiteten e-mail",
    "début du message réexpédié",
    "début du message transféré",
    "inizio messaggio inoltrato",
    "inicio del mensaje reenviado",
    "comienzo del mensaje reenviado",
    "begin doorgestuurd bericht",
    "início da mensagem reencaminhada",
    "início da mensagem encaminhada",
    "以下为转发的邮件",
    "転送されたメッセージ",
];

pub(super) fn is_forward_marker(n: &str) -> bool {
    if let Some(p) = dashed_phrase(n) {
        return FORWARD_DASHED.contains(&p);
    }
    match n.strip_suffix(':').or_else(|| n.strip_suffix('：')) {
        Some(p) => FORWARD_COLON.contains(&p.trim()),
        None => false,
    }
}

const FROM_WORDS: &[&str] = &[
    "from",
    "von",
    "de",
    "da",
    "van",
    "från",
    "fra",
    "od",
    "lähettäjä",
    "feladó",
    "от",
    "kimden",
    "发件人",
    "寄件者",
    "差出人",
    "보낸 사람",
    "보낸사람",
];

const SENT_WORDS: &[&str] = &[
    "sent",
    "date",
    "gesendet",
    "datum",
    "envoyé",
    "envoye",
    "envoyé le",
    "date d'envoi",
    "message du",
    "inviato",
    "data",
    "enviado",
    "enviada",
    "enviado em",
    "enviada em",
    "fecha",
    "verzonden",
    "skickat",
    "sendt",
    "dato",
    "wysłano",
    "lähetetty",
    "päivämäärä",
    "odesláno",
    "elküldve",
    "отправлено",
    "дата",
    "gönderildi",
    "tarih",
    "发送时间",
    "日期",
    "寄件日期",
    "送信日時",
    "보낸 날짜",
    "날짜",
];

const TO_WORDS: &[&str] = &[
    "to",
    "cc",
    "an",
    "à",
    "a",
    "copie à",
    "para",
    "aan",
    "till",
    "til",
    "do",
    "komu",
    "kopie",
    "кому",
    "копия",
    "kime",
    "bilgi",
    "vastaanottaja",
    "címzett",
    "收件人",
    "抄送",
    "收件者",
    "宛先",
    "받는 사람",
    "참조",
];

const SUBJECT_WORDS: &[&str] = &[
    "subject",
    "betreff",
    "objet",
    "oggetto",
    "asunto",
    "assunto",
    "onderwerp",
    "ämne",
    "emne",
    "temat",
    "předmět",
    "aihe",
    "tárgy",
    "тема",
    "konu",
    "主题",
    "主旨",
    "件名",
    "제목",
];

/// The header name of a `Name: value` line (`*From:*` and `De :` allowed), lower case.
fn header_key(n: &str) -> Option<&str> {
    let n = n.trim_start_matches(['*', ' ']);
    let (colon, _) = n.char_indices().take(32).find(|&(_, c)| c == ':' || c == '：')?;
    let key = n.get(..colon)?.trim_end_matches(['*', ' ']);
    (!key.is_empty()).then_some(key)
}

/// Which header a line names: 0 From, 1 Sent/Date, 2 To/Cc, 3 Subject.
fn header_family(line: &Line) -> Option<usize> {
    if line.quoted {
        return None;
    }
    let key = header_key(&line.norm)?;
    [FROM_WORDS, SENT_WORDS, TO_WORDS, SUBJECT_WORDS].iter().position(|words| words.contains(&key))
}

/// A header block of quoted history starts at line `i`: a "From" line and,
/// within the next three lines, a "Sent"/date line (Outlook); or, in any order,
/// at least three header lines in a row among which a "From" and a date, or a
/// "From" naming an address and a subject (French Hotmail's `De :/Envoyé le :`, GMX's `Gesendet:/Von:`, a block that
/// starts with `Date:` or `Message du :`).
pub(super) fn header_block_at(lines: &[Line], i: usize) -> bool {
    let Some(first) = lines.get(i).and_then(header_family) else { return false };
    if first == 0 && (i + 1..=i + 3).any(|k| lines.get(k).and_then(header_family) == Some(1)) {
        return true;
    }
    let mut seen = [false; 4];
    let (mut count, mut from_address) = (0, false);
    for line in lines.iter().skip(i).take(6) {
        match header_family(line) {
            Some(f) => {
                seen[f] = true;
                count += 1;
                from_address |= f == 0 && line.norm.contains('@');
            }
            None => break,
        }
    }
    // Evidence that the block heads an earlier mail: its date, or its sender's
    // address. `From: Jane / To: IT / Subject: printer` in the writer's own text is not one.
    count >= 3 && seen[0] && (seen[1] || (seen[3] && from_address))
}

/// A line of at least eight `_`, `-` or `=` and nothing else.
pub(super) fn is_rule_line(n: &str) -> bool {
    n.len() >= 8 && (n.bytes().all(|b| b == b'_') || n.bytes().all(|b| b == b'-') || n.bytes().all(|b| b == b'='))
}

/// Outlook's `____…` (or `-----…`) line right before a header block.
pub(super) fn rule_before_header_block(lines: &[Line], i: usize) -> bool {
    lines.get(i).is_some_and(|l| is_rule_line(&l.norm))
        && super::next_nonblank(lines, i + 1).is_some_and(|j| j <= i + MAX_BLANK_LOOKAHEAD && header_block_at(lines, j))
}

/// Mailing-list footers name the list.
const LIST_WORDS: &[&str] =
    &["mailing list", "mailingliste", "liste de diffusion", "lista de correo", "mailinglist", "listinfo", "mailman"];

/// A mailing list's footer: an underscore line, then within two lines one naming the list
/// (`… mailing list`, a `listinfo` URL).
fn list_footer_at(lines: &[Line], i: usize) -> bool {
    lines.get(i).is_some_and(|l| l.norm.len() >= 10 && l.norm.bytes().all(|b| b == b'_'))
        && (i + 1..=i + 2).any(|k| lines.get(k).is_some_and(|l| !l.quoted && LIST_WORDS.iter().any(|w| l.norm.contains(w))))
}
