//! Reading an exported file (CSV, or a spreadsheet: XLSX, XLS, ODS) into a header and rows,
//! each row with the line (CSV) or row number (spreadsheet) an operator finds it at.

use crate::ServiceError;
use chrono::NaiveDateTime;
use std::path::Path;

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    Number(f64),
    DateTime(NaiveDateTime),
}

impl Cell {
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text (numbers without a needless `.0`).
    pub(crate) fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", *v as i64),
            Cell::Number(v) => v.to_string(),
            Cell::DateTime(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        }
    }
}

/// A file's header and data rows.
pub(crate) struct Table {
    pub headers: Vec<String>,
    /// (line or row number, cells).
    pub rows: Vec<(usize, Vec<Cell>)>,
    /// Rows that could not be read at all (bad encoding, ragged CSV): (line, why).
    pub unreadable: Vec<(usize, String)>,
}

impl Table {
    /// Index of each wanted column (trimmed, case-insensitive); `None` for names left empty.
    /// Errors with the missing required names.
    pub(crate) fn columns(
        &self,
        wanted: &[(&str, bool)],
    ) -> Result<Vec<Option<usize>>, Vec<String>> {
        let norm = |s: &str| s.trim().to_lowercase();
        let mut missing = Vec::new();
        let idx = wanted
            .iter()
            .map(|(name, required)| {
                if name.trim().is_empty() {
                    return None;
                }
                let found = self.headers.iter().position(|h| norm(h) == norm(name));
                if found.is_none() && *required {
                    missing.push((*name).to_string());
                }
                found
            })
            .collect();
        if missing.is_empty() {
            Ok(idx)
        } else {
            Err(missing)
        }
    }
}

fn file_err(path: &Path, detail: impl ToString) -> ServiceError {
    ServiceError::File {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// Reads `path` by its extension: `.xlsx`, `.xlsm`, `.xls`, `.ods` as a spreadsheet (`sheet`, or
/// the first), anything else as CSV with `delimiter`.
pub(crate) fn read(path: &Path, delimiter: u8, sheet: &str) -> Result<Table, ServiceError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => read_sheet(path, sheet),
        _ => read_csv(path, delimiter),
    }
}

fn read_csv(path: &Path, delimiter: u8) -> Result<Table, ServiceError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| file_err(path, e))?;
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        let line = rdr.position().line() as usize;
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // An I/O error ends the file; a parse error spoils one record only.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(file_err(path, e));
                }
                unreadable.push((line, e.to_string()));
                continue;
            }
        }
        let line = rec.position().map_or(line, |p| p.line() as usize);
        let mut cells = Vec::with_capacity(rec.len());
        let mut bad = None;
        for (i, field) in rec.iter().enumerate() {
            // Excel's "CSV UTF-8" starts with a byte-order mark.
            let field = if headers.is_none() && i == 0 {
                field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
            } else {
                field
            };
            match std::str::from_utf8(field) {
                Ok(s) if s.trim().is_empty() => cells.push(Cell::Empty),
                Ok(s) => cells.push(Cell::Text(s.trim().to_string())),
                Err(_) => {
                    bad = Some(format!(
                        "field {} is not UTF-8 text (save the export as CSV UTF-8)",
                        i + 1
                    ));
                    break;
                }
            }
        }
        if let Some(why) = bad {
            if headers.is_none() {
                return Err(file_err(path, format!("header line {line}: {why}")));
            }
            unreadable.push((line, why));
            continue;
        }
        match &headers {
            None => headers = Some(cells.iter().map(Cell::text).collect()),
            Some(_) if cells.iter().all(Cell::is_empty) => {}
            Some(_) => rows.push((line, cells)),
        }
    }
    let headers = headers.ok_or_else(|| file_err(path, "the file is empty (no header line)"))?;
    Ok(Table {
        headers,
        rows,
        unreadable,
    })
}

fn read_sheet(path: &Path, sheet: &str) -> Result<Table, ServiceError> {
    use calamine::{Data, Reader, open_workbook_auto};
    let mut wb = open_workbook_auto(path).map_err(|e| file_err(path, e))?;
    let names = wb.sheet_names();
    let name = if sheet.is_empty() {
        names
            .first()
            .cloned()
            .ok_or_else(|| file_err(path, "the workbook has no sheet"))?
    } else if names.iter().any(|n| n == sheet) {
        sheet.to_string()
    } else {
        return Err(file_err(
            path,
            format!("no sheet '{sheet}' (sheets: {})", names.join(", ")),
        ));
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| file_err(path, format!("sheet '{name}': {e}")))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let number = first_row + i + 1;
        let mut cells = vec![Cell::Empty; first_col];
        let mut bad = None;
        for (j, d) in row.iter().enumerate() {
            cells.push(match d {
                Data::Empty => Cell::Empty,
                Data::String(s) if s.trim().is_empty() => Cell::Empty,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                    Cell::Text(s.trim().to_string())
                }
                Data::Int(v) => Cell::Number(*v as f64),
                Data::Float(v) => Cell::Number(*v),
                Data::Bool(b) => Cell::Text(b.to_string()),
                Data::DateTime(dt) => match dt.as_datetime() {
                    Some(n) => Cell::DateTime(n),
                    None => Cell::Number(dt.as_f64()),
                },
                Data::Error(e) => {
                    bad = Some(format!(
                        "column {}: spreadsheet error {e:?}",
                        first_col + j + 1
                    ));
                    Cell::Empty
                }
            });
        }
        if let Some(why) = bad
            && headers.is_some()
        {
            unreadable.push((number, why));
            continue;
        }
        match &headers {
            None if cells.iter().all(Cell::is_empty) => {}
            None => headers = Some(cells.iter().map(Cell::text).collect()),
            Some(_) if cells.iter().all(Cell::is_empty) => {}
            Some(_) => rows.push((number, cells)),
        }
    }
    let headers = headers
        .ok_or_else(|| file_err(path, format!("sheet '{name}' is empty (no header row)")))?;
    Ok(Table {
        headers,
        rows,
        unreadable,
    })
}
