//! Imports of ticket-system and one-stop-software exports (CSV, XLSX) with the column mapping of
//! `[service.tickets]` / `[service.dossiers]`.
//!
//! Every row is checked with the same rules as the API ([`Intake`]); a bad row is reported with
//! its line (CSV) or row number (spreadsheet) and the column at fault, and the good rows are
//! stored all the same, in one transaction. Rows are upserts on their natural key, so importing
//! the same file again changes nothing (every row is reported unchanged). A row repeated within
//! a file is counted once; a repeat with other values is reported as an error.

use crate::ServiceError;
use crate::error::{FieldError, Invalid};
use crate::intake::Intake;
use crate::table::{self, Cell, Table};
use crate::times::{local_to_unix, parse_time};
use hallwatch_store::{Channel, Dossier, Store, Ticket, Upsert};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// One row that was not imported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// Line of the CSV file, or row number of the spreadsheet (1 = the first row).
    pub line: usize,
    /// The column at fault (its name in the file), when it is one column.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column '{c}': {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// The file's name.
    pub file: String,
    /// Data rows read (header and blank lines not counted).
    pub rows: usize,
    /// Rows stored as new.
    pub inserted: usize,
    /// Rows that changed a stored record.
    pub updated: usize,
    /// Rows already stored exactly so.
    pub unchanged: usize,
    /// Rows repeating an earlier row of the same file exactly (stored once).
    pub duplicates: usize,
    /// Rows not imported, in file order.
    pub errors: Vec<RowError>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} rows: {} new, {} updated, {} unchanged, {} duplicate, {} rejected",
            self.file,
            self.rows,
            self.inserted,
            self.updated,
            self.unchanged,
            self.duplicates,
            self.errors.len()
        )
    }
}

impl ImportReport {
    fn count(&mut self, results: &[Upsert]) {
        for r in results {
            match r {
                Upsert::Inserted => self.inserted += 1,
                Upsert::Updated => self.updated += 1,
                Upsert::Unchanged => self.unchanged += 1,
            }
        }
    }
}

fn delimiter(d: &str) -> u8 {
    d.as_bytes().first().copied().unwrap_or(b',')
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reads one row's cells by column, collecting errors named by the file's column names.
struct RowReader<'a> {
    intake: &'a Intake,
    formats: &'a [String],
    table: &'a Table,
    cols: &'a [Option<usize>],
    cells: &'a [Cell],
    errors: Vec<FieldError>,
}

impl RowReader<'_> {
    fn name(&self, i: usize) -> String {
        self.cols[i]
            .and_then(|c| self.table.headers.get(c).cloned())
            .unwrap_or_default()
    }

    fn cell(&self, i: usize) -> Option<&Cell> {
        self.cols[i]
            .and_then(|c| self.cells.get(c))
            .filter(|c| !c.is_empty())
    }

    fn err(&mut self, i: usize, message: impl Into<String>) {
        let field = self.name(i);
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    fn text(&self, i: usize) -> String {
        self.cell(i).map(Cell::text).unwrap_or_default()
    }

    fn required_text(&mut self, i: usize) -> String {
        let t = self.text(i);
        if t.is_empty() {
            self.err(i, "empty, but required");
        }
        t
    }

    fn time(&mut self, i: usize) -> Option<f64> {
        let tz = self.intake.tz();
        let t = match self.cell(i)? {
            Cell::DateTime(n) => local_to_unix(tz, *n),
            Cell::Number(v) if self.formats.iter().any(|f| f == "unix") => Some(*v),
            Cell::Number(v) => {
                let msg = format!(
                    "{v} is a number, not a time (add \"unix\" to time_formats for Unix seconds)"
                );
                self.err(i, msg);
                return None;
            }
            Cell::Text(s) => parse_time(tz, s, self.formats),
            Cell::Empty => return None,
        };
        if t.is_none() {
            let msg = format!(
                "'{}' is not a time in any of the formats {}",
                self.text(i),
                self.formats.join(" | ")
            );
            self.err(i, msg);
        }
        t
    }

    fn required_time(&mut self, i: usize) -> Option<f64> {
        if self.cell(i).is_none() {
            self.err(i, "empty, but required");
            return None;
        }
        self.time(i)
    }

    fn counter(&mut self, i: usize) -> Option<u32> {
        let c = self.cell(i)?.clone();
        let parsed = match &c {
            Cell::Number(v) if v.fract() == 0.0 && *v >= 0.0 && *v <= f64::from(u32::MAX) => {
                Some(*v as u32)
            }
            Cell::Text(s) => {
                // "3", or a label such as "Quầy 3": exactly one run of digits.
                let runs: Vec<&str> = s
                    .split(|ch: char| !ch.is_ascii_digit())
                    .filter(|r| !r.is_empty())
                    .collect();
                match runs.as_slice() {
                    [one] => one.parse().ok(),
                    _ => None,
                }
            }
            _ => None,
        };
        if parsed.is_none() {
            let msg = format!("'{}' is not a counter number", c.text());
            self.err(i, msg);
        }
        parsed
    }

    /// Maps an intake check's field names (`called`, ...) to the file's column names.
    fn add_invalid(&mut self, e: Invalid, fields: &[&str]) {
        for fe in e.errors {
            let column = fields
                .iter()
                .position(|f| *f == fe.field)
                .map(|i| self.name(i))
                .filter(|n| !n.is_empty())
                .unwrap_or(fe.field);
            self.errors.push(FieldError {
                field: column,
                message: fe.message,
            });
        }
    }
}

fn row_errors(line: usize, errors: Vec<FieldError>) -> Vec<RowError> {
    errors
        .into_iter()
        .map(|e| RowError {
            line,
            column: (!e.field.is_empty()).then_some(e.field),
            message: e.message,
        })
        .collect()
}

const NO_SHOW_MARKS: &[&str] = &["1", "x", "yes", "true", "có", "co", "y"];
const NOT_NO_SHOW: &[&str] = &["0", "no", "false", "không", "khong", "n", "-"];

/// Imports a ticket export into `site`'s tickets, with the columns of `[service.tickets]`.
/// `now` bounds plausible times (no ticket from the future).
pub fn import_tickets(
    store: &mut Store,
    site: &str,
    intake: &Intake,
    path: &Path,
    now: f64,
) -> Result<ImportReport, ServiceError> {
    let cfg = &intake.settings().tickets;
    let table = table::read(path, delimiter(&cfg.delimiter), &cfg.sheet)?;
    // Order matters: it is the order of FIELDS below.
    let wanted = [
        (cfg.number.as_str(), true),
        (cfg.service.as_str(), false),
        (cfg.issued.as_str(), true),
        (cfg.called.as_str(), false),
        (cfg.counter.as_str(), false),
        (cfg.finished.as_str(), false),
        (cfg.no_show.as_str(), false),
    ];
    const FIELDS: [&str; 7] = [
        "number", "service", "issued", "called", "counter", "finished", "no_show",
    ];
    let cols = table
        .columns(&wanted)
        .map_err(|missing| ServiceError::MissingColumns {
            path: path.to_path_buf(),
            section: "tickets",
            missing,
            found: table.headers.clone(),
        })?;
    let file = file_name(path);
    let mut report = ImportReport {
        file: file.clone(),
        rows: table.rows.len() + table.unreadable.len(),
        ..ImportReport::default()
    };
    let mut bad: Vec<RowError> = table
        .unreadable
        .iter()
        .map(|(line, why)| RowError {
            line: *line,
            column: None,
            message: why.clone(),
        })
        .collect();
    let mut good: Vec<Ticket> = Vec::new();
    let mut seen: HashMap<(String, String), (usize, usize)> = HashMap::new();
    for (line, cells) in &table.rows {
        let mut r = RowReader {
            intake,
            formats: &cfg.time_formats,
            table: &table,
            cols: &cols,
            cells,
            errors: Vec::new(),
        };
        let number = r.required_text(0);
        let service = r.text(1);
        let issued = r.required_time(2);
        let called = r.time(3);
        let counter = r.counter(4);
        let finished = r.time(5);
        let no_show = match r.cell(6).cloned() {
            None => None,
            Some(c) => {
                let text = c.text().to_lowercase();
                if NO_SHOW_MARKS.contains(&text.as_str()) {
                    called.or(issued)
                } else if NOT_NO_SHOW.contains(&text.as_str()) {
                    None
                } else {
                    r.time(6)
                }
            }
        };
        let Some(issued) = issued.filter(|_| r.errors.is_empty()) else {
            bad.extend(row_errors(*line, r.errors));
            continue;
        };
        let ticket = Ticket {
            day: intake.local_day(issued),
            number,
            service,
            issued,
            called,
            counter,
            finished,
            no_show,
            source: file.clone(),
        };
        if let Err(e) = intake.check_ticket(&ticket, now) {
            r.add_invalid(e, &FIELDS);
            bad.extend(row_errors(*line, r.errors));
            continue;
        }
        let key = (ticket.day.clone(), ticket.number.clone());
        if let Some(&(first_line, idx)) = seen.get(&key) {
            if good[idx] == ticket {
                report.duplicates += 1;
            } else {
                bad.push(RowError {
                    line: *line,
                    column: None,
                    message: format!(
                        "ticket {} of {} is already on line {first_line} with other values",
                        ticket.number, ticket.day
                    ),
                });
            }
            continue;
        }
        seen.insert(key, (*line, good.len()));
        good.push(ticket);
    }
    let results = store.upsert_tickets(site, &good)?;
    report.count(&results);
    bad.sort_by_key(|e| e.line);
    report.errors = bad;
    tracing::info!(%report, "tickets imported");
    Ok(report)
}

/// Imports a dossier export into `site`'s dossiers, with the columns of `[service.dossiers]`.
pub fn import_dossiers(
    store: &mut Store,
    site: &str,
    intake: &Intake,
    path: &Path,
    now: f64,
) -> Result<ImportReport, ServiceError> {
    let cfg = &intake.settings().dossiers;
    let table = table::read(path, delimiter(&cfg.delimiter), &cfg.sheet)?;
    let wanted = [
        (cfg.code.as_str(), true),
        (cfg.service.as_str(), false),
        (cfg.channel.as_str(), true),
        (cfg.received.as_str(), true),
        (cfg.due.as_str(), false),
        (cfg.resolved.as_str(), false),
    ];
    const FIELDS: [&str; 6] = ["code", "service", "channel", "received", "due", "resolved"];
    let cols = table
        .columns(&wanted)
        .map_err(|missing| ServiceError::MissingColumns {
            path: path.to_path_buf(),
            section: "dossiers",
            missing,
            found: table.headers.clone(),
        })?;
    let lower = |v: &[String]| {
        v.iter()
            .map(|s| s.trim().to_lowercase())
            .collect::<Vec<_>>()
    };
    let online = lower(&cfg.online_values);
    let in_person = lower(&cfg.in_person_values);
    let mut report = ImportReport {
        file: file_name(path),
        rows: table.rows.len() + table.unreadable.len(),
        ..ImportReport::default()
    };
    let mut bad: Vec<RowError> = table
        .unreadable
        .iter()
        .map(|(line, why)| RowError {
            line: *line,
            column: None,
            message: why.clone(),
        })
        .collect();
    let mut good: Vec<Dossier> = Vec::new();
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    for (line, cells) in &table.rows {
        let mut r = RowReader {
            intake,
            formats: &cfg.time_formats,
            table: &table,
            cols: &cols,
            cells,
            errors: Vec::new(),
        };
        let code = r.required_text(0);
        let service = r.text(1);
        let channel_text = r.required_text(2);
        let ch = channel_text.to_lowercase();
        let channel = if online.contains(&ch) {
            Some(Channel::Online)
        } else if in_person.contains(&ch) {
            Some(Channel::InPerson)
        } else {
            if !ch.is_empty() {
                let msg = format!(
                    "'{channel_text}' is neither online ({}) nor in person ({})",
                    cfg.online_values.join(", "),
                    cfg.in_person_values.join(", ")
                );
                r.err(2, msg);
            }
            None
        };
        let received = r.required_time(3);
        let due = r.time(4);
        let resolved = r.time(5);
        let (Some(channel), Some(received)) = (channel, received) else {
            bad.extend(row_errors(*line, r.errors));
            continue;
        };
        if !r.errors.is_empty() {
            bad.extend(row_errors(*line, r.errors));
            continue;
        }
        let d = Dossier {
            code,
            service,
            channel,
            received,
            due,
            resolved,
        };
        if let Err(e) = intake.check_dossier(&d, now) {
            r.add_invalid(e, &FIELDS);
            bad.extend(row_errors(*line, r.errors));
            continue;
        }
        if let Some(&(first_line, idx)) = seen.get(&d.code) {
            if good[idx] == d {
                report.duplicates += 1;
            } else {
                bad.push(RowError {
                    line: *line,
                    column: None,
                    message: format!(
                        "dossier {} is already on line {first_line} with other values",
                        d.code
                    ),
                });
            }
            continue;
        }
        seen.insert(d.code.clone(), (*line, good.len()));
        good.push(d);
    }
    let results = store.upsert_dossiers(site, &good)?;
    report.count(&results);
    bad.sort_by_key(|e| e.line);
    report.errors = bad;
    tracing::info!(%report, "dossiers imported");
    Ok(report)
}
