//! Reading MOTChallenge text files.

use std::path::Path;

use hallwatch_core::BBox;

use crate::EvalError;

/// One row of a MOTChallenge file: a box of one object (ground truth), one detection or one
/// tracked box (tracker output) in one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MotRow {
    /// Frame number (MOTChallenge numbers frames from 1).
    pub frame: u32,
    /// Object or track id; `-1` in detection files.
    pub id: i64,
    /// The box, from the `x,y,w,h` columns (pixels, top-left corner and size).
    pub bbox: BBox,
    /// The 7th column: the detector's score in detection files; in ground truth the
    /// "consider" flag (`0` = ignore this box, `1` = evaluate it). `1.0` when the column is absent.
    pub conf: f32,
}

impl MotRow {
    /// A row with `conf` 1.
    pub fn new(frame: u32, id: i64, bbox: BBox) -> Self {
        Self {
            frame,
            id,
            bbox,
            conf: 1.0,
        }
    }

    /// Whether this row, read as ground truth, is a "don't care" box (its conf column is 0).
    pub fn is_ignored_gt(&self) -> bool {
        self.conf == 0.0
    }
}

const COLUMN_NAMES: [&str; 10] = [
    "frame",
    "id",
    "x",
    "y",
    "w",
    "h",
    "conf",
    "x3d (or class)",
    "y3d (or visibility)",
    "z3d",
];

/// Reads a MOTChallenge file (see [`parse_mot`] for the accepted format).
pub fn read_mot(path: impl AsRef<Path>) -> Result<Vec<MotRow>, EvalError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_mot(&text, &path.display().to_string())
}

/// Parses the text of a MOTChallenge file; `name_for_errors` names it in error messages.
///
/// Each non-blank line is one row `frame,id,x,y,w,h[,conf[,x3d,y3d[,z3d]]]`: the 10-column
/// MOT15 layout, the 9-column MOT16+ ground-truth layout (`...,conf,class,visibility`), or the
/// first 6 or more columns of either. Values are separated by commas (whitespace around them is
/// allowed, and so is one trailing comma) or, on a line without commas, by whitespace. `frame`
/// and `id` are integers (an integral value written as `3.0` is accepted); `x,y,w,h` and `conf`
/// are finite numbers with `w,h >= 0`; the columns after `conf` must be numbers but are not kept.
/// A missing `conf` reads as 1. Rows are returned in file order.
pub fn parse_mot(text: &str, name_for_errors: &str) -> Result<Vec<MotRow>, EvalError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let row = parse_row(line).map_err(|message| EvalError::Parse {
            file: name_for_errors.to_owned(),
            line: index + 1,
            message,
        })?;
        rows.push(row);
    }
    Ok(rows)
}

fn parse_row(line: &str) -> Result<MotRow, String> {
    let mut fields: Vec<&str> = if line.contains(',') {
        line.split(',').map(str::trim).collect()
    } else {
        line.split_whitespace().collect()
    };
    if fields.len() > 1 && fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    if !(6..=10).contains(&fields.len()) {
        return Err(format!(
            "expected 6 to 10 columns (frame,id,x,y,w,h,conf,x3d,y3d,z3d), found {}: {line:?}",
            fields.len()
        ));
    }
    if let Some(empty) = fields.iter().position(|f| f.is_empty()) {
        return Err(format!(
            "column {} ({}) is empty",
            empty + 1,
            COLUMN_NAMES[empty]
        ));
    }
    let frame = integer(fields[0], 0)?;
    let frame = u32::try_from(frame)
        .map_err(|_| format!("column 1 (frame) must be a frame number >= 0, found {frame}"))?;
    let id = integer(fields[1], 1)?;
    let x = number(fields[2], 2)?;
    let y = number(fields[3], 3)?;
    let w = number(fields[4], 4)?;
    let h = number(fields[5], 5)?;
    if w < 0.0 || h < 0.0 {
        return Err(format!("negative box size w={w}, h={h}"));
    }
    let conf = match fields.get(6) {
        Some(field) => number(field, 6)?,
        None => 1.0,
    };
    for (column, field) in fields.iter().enumerate().skip(7) {
        field
            .parse::<f64>()
            .map_err(|_| not_a_number(field, column))?;
    }
    Ok(MotRow {
        frame,
        id,
        bbox: BBox::from_xywh(x, y, w, h),
        conf,
    })
}

fn not_a_number(field: &str, column: usize) -> String {
    format!(
        "column {} ({}) is not a number: {field:?}",
        column + 1,
        COLUMN_NAMES[column]
    )
}

fn number(field: &str, column: usize) -> Result<f32, String> {
    let value: f32 = field.parse().map_err(|_| not_a_number(field, column))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!(
            "column {} ({}) must be finite, found {field:?}",
            column + 1,
            COLUMN_NAMES[column]
        ))
    }
}

fn integer(field: &str, column: usize) -> Result<i64, String> {
    if let Ok(value) = field.parse::<i64>() {
        return Ok(value);
    }
    let value: f64 = field.parse().map_err(|_| not_a_number(field, column))?;
    // Some tools write integral columns as floats ("12.000000").
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        Ok(value as i64)
    } else {
        Err(format!(
            "column {} ({}) must be an integer, found {field:?}",
            column + 1,
            COLUMN_NAMES[column]
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_layouts() {
        let text = "\u{feff}1,2,10,20,30,40,0.9,-1,-1,-1\n\
                    \n   \n\
                    2, 3 , 1.5,2.5,3,4,1,1,0.75\r\n\
                    3,4,0,0,5,5,0.5\n\
                    4,-1,1,1,2,2\n\
                    5 7 1 2 3 4 0.25\n\
                    6.0,8.0,1,1,1,1,1,\n";
        let rows = parse_mot(text, "t.txt").expect("parses");
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].frame, 1);
        assert_eq!(rows[0].id, 2);
        assert_eq!(rows[0].bbox, BBox::new(10.0, 20.0, 40.0, 60.0));
        assert_eq!(rows[0].conf, 0.9);
        assert_eq!(rows[1].bbox, BBox::new(1.5, 2.5, 4.5, 6.5));
        assert_eq!(rows[1].conf, 1.0);
        assert_eq!(rows[2].conf, 0.5);
        assert_eq!((rows[3].id, rows[3].conf), (-1, 1.0));
        assert_eq!((rows[4].frame, rows[4].id, rows[4].conf), (5, 7, 0.25));
        assert_eq!(rows[4].bbox, BBox::new(1.0, 2.0, 4.0, 6.0));
        assert_eq!((rows[5].frame, rows[5].id), (6, 8));
        assert!(!rows[0].is_ignored_gt());
        assert!(
            MotRow {
                conf: 0.0,
                ..rows[0]
            }
            .is_ignored_gt()
        );
    }

    fn error_of(text: &str) -> String {
        match parse_mot(text, "gt.txt") {
            Err(e) => e.to_string(),
            Ok(rows) => panic!("expected an error, parsed {rows:?}"),
        }
    }

    #[test]
    fn rejects_malformed_rows_naming_file_and_line() {
        let good = "1,1,0,0,1,1,1\n";
        let e = error_of(&format!("{good}\n1,1,0,0,1\n"));
        assert!(e.starts_with("gt.txt:3: expected 6 to 10 columns"), "{e}");
        let e = error_of(&format!("{good}1,1,0,0,1,1,1,1,1,1,1\n"));
        assert!(e.starts_with("gt.txt:2: expected 6 to 10 columns"), "{e}");
        let e = error_of("1,x,0,0,1,1\n");
        assert_eq!(e, "gt.txt:1: column 2 (id) is not a number: \"x\"");
        let e = error_of("1.5,1,0,0,1,1\n");
        assert_eq!(
            e,
            "gt.txt:1: column 1 (frame) must be an integer, found \"1.5\""
        );
        let e = error_of("-1,1,0,0,1,1\n");
        assert!(e.contains("column 1 (frame) must be a frame number"), "{e}");
        let e = error_of("1,1,0,0,-1,1\n");
        assert!(e.contains("negative box size"), "{e}");
        let e = error_of("1,1,0,nan,1,1\n");
        assert!(e.contains("column 4 (y) must be finite"), "{e}");
        let e = error_of("1,1,0,0,1,1,1,car\n");
        assert!(
            e.contains("column 8 (x3d (or class)) is not a number"),
            "{e}"
        );
        let e = error_of("1,1,,0,1,1\n");
        assert_eq!(e, "gt.txt:1: column 3 (x) is empty");
    }

    #[test]
    fn read_mot_reports_missing_file_and_parses_real_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.txt");
        let e = read_mot(&missing).expect_err("missing file");
        assert!(e.to_string().contains("missing.txt"), "{e}");
        let path = dir.path().join("det.txt");
        std::fs::write(&path, "1,-1,1,2,3,4,0.5\nbad\n").expect("write");
        let e = read_mot(&path).expect_err("bad row");
        assert!(e.to_string().contains("det.txt:2:"), "{e}");
        std::fs::write(&path, "1,-1,1,2,3,4,0.5\n").expect("write");
        assert_eq!(read_mot(&path).expect("reads").len(), 1);
    }
}
