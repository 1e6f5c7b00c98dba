//! SMTP on a connection: finished mail transactions become an inspection (envelope
//! and attachments), the `smtp`/`email` record and one `fileinfo` per attachment.

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::{Mail, SmtpParser};
use crate::app::files::FileLimits;
use crate::app::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use crate::app::records::{file_of, text, Record};

/// SMTP over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Smtp,
    ports: &[25, 587],
    needs_port: false,
    probe,
    new: |limits| {
        let parser = SmtpParser::new(limits.smtp_message_limit);
        Box::new(SmtpConn { parser, next_tx: 0, file_limits: limits.files })
    },
};

/// The client's greeting (a `220` banner alone is also FTP's).
fn probe(data: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    if data.len() < 5 {
        return Probe::NeedMore;
    }
    let hello = &data[..5];
    if hello.eq_ignore_ascii_case(b"EHLO ") || hello.eq_ignore_ascii_case(b"HELO ") {
        Probe::Yes(Sender::Client)
    } else {
        Probe::No
    }
}

/// An SMTP transaction as EVE writes it (`smtp` and `email` objects).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SmtpEvent {
    #[serde(skip)]
    pub(crate) tx_id: u64,
    pub(crate) smtp: SmtpRecord,
    pub(crate) email: EmailRecord,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct SmtpRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) helo: Option<String>,
    pub(crate) mail_from: String,
    pub(crate) rcpt_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct EmailRecord {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) from: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) to: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) attachment: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct SmtpConn {
    parser: SmtpParser,
    next_tx: u64,
    file_limits: FileLimits,
}

impl AppParser for SmtpConn {
    fn mem_usage(&self) -> usize {
        self.parser.held()
    }

    /// Only the client side is parsed: the replies add nothing to the record.
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        if dir == 0 {
            let mut mails = Vec::new();
            self.parser.feed(bytes, &mut mails);
            self.mails(mails, cx);
        }
    }

    fn close(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        if dir == 0 {
            let mut mails = Vec::new();
            self.parser.close(&mut mails);
            self.mails(mails, cx);
        }
    }
}

impl SmtpConn {
    /// Finished mail transactions.
    fn mails(&mut self, mails: Vec<Mail>, cx: &mut AppCx<'_>) {
        cx.counters.smtp_errors += std::mem::take(&mut self.parser.errors);
        for mail in mails {
            let tx_id = self.next_tx;
            self.next_tx += 1;
            cx.counters.smtp_mails += 1;
            let mut insp = Inspection::new(0);
            if let Some(h) = &mail.helo {
                insp.push(Buffer::SmtpHelo, h);
            }
            insp.push(Buffer::SmtpMailFrom, &mail.mail_from);
            for r in &mail.rcpt_to {
                insp.push(Buffer::SmtpRcptTo, r);
            }
            let ev = SmtpEvent {
                tx_id,
                smtp: SmtpRecord {
                    helo: mail.helo.as_deref().map(text),
                    mail_from: format!("<{}>", text(&mail.mail_from)),
                    rcpt_to: mail.rcpt_to.iter().map(|r| format!("<{}>", text(r))).collect(),
                },
                email: EmailRecord {
                    status: if mail.truncated { "PARSE_INCOMPLETE" } else { "PARSE_DONE" },
                    from: mail.from.clone(),
                    to: mail.to.clone(),
                    subject: mail.subject.clone(),
                    attachment: mail.attachments.iter().map(|a| a.filename.clone()).collect(),
                },
            };
            insp.meta = meta("smtp", &ev.smtp);
            for a in &mail.attachments {
                cx.counters.smtp_attachments += 1;
                insp.push(Buffer::FileData, self.file_limits.window(&a.data));
                let file = file_of(&a.filename, &a.data, tx_id, mail.truncated)
                    .carried_by("smtp", &ev.smtp)
                    .carried_by("email", &ev.email);
                insp.push_file_facts(&file);
                cx.record(true, Record::Fileinfo(file));
            }
            cx.inspect(insp);
            cx.record(true, Record::Smtp(ev));
        }
    }
}
