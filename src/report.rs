//! Views of SRs for people and scripts: the `sr show --json` contract and a readable form.

use serde_json::{Value, json};

use crate::sr::Sr;

/// The JSON object `sr show --json` prints (and `sr list --json` prints an array of).
pub fn sr_json(sr: &Sr) -> Value {
    let messages: Vec<Value> = sr
        .messages
        .iter()
        .map(|m| {
            json!({
                "direction": m.direction,
                "from": m.from,
                "to": m.to,
                "subject": m.subject,
                "message_id": m.message_id,
                "kind": m.kind,
                "at": m.at.to_string(),
                "attachments": m.attachments,
                "text": m.text,
                "files": m.files.iter().map(|f| json!({"name": f.name, "type": f.content_type, "size": f.size, "sha256": f.sha256, "forwarded": f.forwarded})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "id": sr.id,
        "token": sr.token(),
        "state": sr.state,
        "priority": sr.priority,
        "language": sr.language,
        "customer": sr.customer,
        "customer_name": sr.customer_name,
        "assignee": sr.assignee,
        "subject": sr.subject,
        "contact_attempts": sr.contact_attempts,
        "created_at": sr.created_at.to_string(),
        "updated_at": sr.updated_at.to_string(),
        "closed_at": sr.closed_at.map(|t| t.to_string()),
        "close_reason": sr.close_reason,
        "detected_language": sr.detected_language,
        "product": sr.product,
        "account": sr.account,
        "tier": sr.tier,
        "tags": sr.tags,
        "after_hours": sr.after_hours,
        "first_response_due": sr.first_response_due.map(|t| t.to_string()),
        "first_response_at": sr.first_response_at.map(|t| t.to_string()),
        "related": sr.related,
        "events": sr.events.iter().map(|e| json!({"at": e.at.to_string(), "kind": e.kind, "by": e.by, "detail": e.detail})).collect::<Vec<_>>(),
        "escalated": sr.escalated,
        "requested_priority": sr.requested_priority,
        "on_hold_until": sr.on_hold_until.map(|t| t.to_string()),
        "waiting_since": sr.waiting_since.map(|t| t.to_string()),
        "reopen_count": sr.reopen_count,
        "participants": sr.participants,
        "support_address": sr.support_address,
        "messages": messages,
    })
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("-")
}

/// One line per SR, for `sr list`.
pub fn list_line(v: &Value) -> String {
    format!(
        "{:<14} {:<18} {:<3} {:<28} {:<28} {}",
        s(v, "token"),
        s(v, "state"),
        s(v, "priority"),
        s(v, "customer"),
        s(v, "assignee"),
        s(v, "subject")
    )
}

/// The readable form of one SR, for `sr show`.
pub fn show_text(v: &Value) -> String {
    let mut out = format!("{} {}\n", s(v, "token"), s(v, "subject"));
    for key in [
        "state",
        "priority",
        "language",
        "customer",
        "support_address",
        "assignee",
        "contact_attempts",
        "created_at",
        "updated_at",
        "closed_at",
        "close_reason",
    ] {
        let value = match v.get(key) {
            Some(Value::String(x)) => x.clone(),
            Some(Value::Null) | None => "-".into(),
            Some(other) => other.to_string(),
        };
        out.push_str(&format!("  {key:<17} {value}\n"));
    }
    out.push_str("\nhistory:\n");
    for e in v.get("events").and_then(Value::as_array).into_iter().flatten() {
        out.push_str(&format!("  {} {:<22} {:<28} {}\n", s(e, "at"), s(e, "kind"), s(e, "by"), s(e, "detail")));
    }
    out.push_str("\nmessages:\n");
    for m in v.get("messages").and_then(Value::as_array).into_iter().flatten() {
        let dir = if s(m, "direction") == "in" { "<-" } else { "->" };
        let to: Vec<&str> = m.get("to").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        out.push_str(&format!("  {} {} {:<16} {} -> {}\n", s(m, "at"), dir, s(m, "kind"), s(m, "from"), to.join(", ")));
        let files: Vec<&str> = m.get("attachments").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        if !files.is_empty() {
            out.push_str(&format!("      attachments: {}\n", files.join(", ")));
        }
    }
    out
}

/// What the gateway reads in one raw message, for `srgate mail inspect`: the
/// class and the signals that decided it (`delayed` for a delay warning, the
/// `dsn_actions` of a delivery report), threading keys, the writer's new text, attachments.
pub fn inspect_json(raw: &[u8]) -> Value {
    use crate::mail::{classify, inbound, thread};
    let mail = match inbound::parse(raw) {
        Ok(m) => m,
        Err(e) => return json!({"class": "unreadable", "reason": e.to_string()}),
    };
    // Our own Message-IDs cannot be recognised without a store: any srgate-made id counts.
    let c = classify::classify(&mail, |id| id.starts_with("sr") && id.matches('.').count() >= 2, &[]);
    json!({
        "class": c.class,
        "signals": c.signals,
        "delayed": c.class == classify::Class::Delay,
        "dsn_actions": mail.report_parts.actions,
        "from": mail.from,
        "from_name": mail.from_name,
        "subject": mail.subject,
        "clean_subject": thread::clean_subject(&mail.subject),
        "token": thread::token_in(&mail.subject),
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": mail.references,
        "content_type": mail.content_type,
        "content_language": mail.content_language,
        "language": mail.detected_language,
        "bounce_of": mail.report_ids,
        "attachments": mail.attachments.iter().map(|a| json!({"name": a.name, "content_type": a.content_type, "size": a.data.len()})).collect::<Vec<_>>(),
        "new_text": mail.new_text,
        "quote_cut": mail.quote_cut.map(crate::mail::quote::Rule::as_str),
        "forward": mail.forward.as_ref().map(forward_json),
    })
}

/// The forward a mail carries, as `mail inspect --json` shows it.
fn forward_json(f: &crate::mail::forward::Forward) -> Value {
    let original = f.original.as_ref().map(|o| {
        json!({
            "from": o.from,
            "name": o.name,
            "subject": o.subject,
            "clean_subject": o.subject.as_deref().map(crate::mail::thread::clean_subject),
            "date": o.date,
            "text": o.text,
            "attachments": o.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
            "message_id": o.message_id,
        })
    });
    json!({"shape": f.shape.as_str(), "note": f.note, "original": original})
}
