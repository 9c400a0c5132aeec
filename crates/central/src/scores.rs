//! Each commune's monthly score under Decision 766/QĐ-TTg (the national index of serving
//! citizens and businesses), imported at the centre as the national system publishes it: the
//! centre does not recompute it. Beside it the league table shows what that index cannot see
//! (queues, waits against target, counter service, people leaving unserved, counter ratings,
//! data completeness).
//!
//! The file is a CSV (comma or semicolon separated, UTF-8, a header row) with the columns
//! `site`, `month` (`YYYY-MM`), `total` (0-100) and, optionally, the five groups of the index:
//! `cong_khai` (công khai, minh bạch), `tien_do` (tiến độ giải quyết), `truc_tuyen` (dịch vụ
//! trực tuyến), `hai_long` (mức độ hài lòng), `so_hoa` (số hóa hồ sơ). A decimal comma is
//! read in a semicolon-separated file. Importing a hall's month again replaces it.

use crate::{Central, CentralError, pg};
use serde::Serialize;

/// The optional group columns, in order.
pub const GROUPS: [&str; 5] = ["cong_khai", "tien_do", "truc_tuyen", "hai_long", "so_hoa"];

/// One hall's score of one month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score766 {
    /// The hall's site id.
    pub site: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The total, out of 100.
    pub total: f64,
    /// The five groups ([`GROUPS`]), when given.
    pub groups: [Option<f64>; 5],
}

/// Reads a scores file; every problem is listed as `line N: column: what is wrong`.
pub fn parse_scores_766(text: &str) -> Result<Vec<Score766>, Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    let header = text.lines().next().unwrap_or_default();
    let semicolon = header.contains(';') && !header.contains(',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if semicolon { b';' } else { b',' })
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![format!("line 1: cannot read the header: {e}")]),
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(site_i), Some(month_i), Some(total_i)) = (col("site"), col("month"), col("total"))
    else {
        return Err(vec![format!(
            "line 1: the header needs the columns site, month, total (optional: {}); it has: {}",
            GROUPS.join(", "),
            headers.join(", ")
        )]);
    };
    for h in &headers {
        if !["site", "month", "total"].contains(&h.as_str()) && !GROUPS.contains(&h.as_str()) {
            errors.push(format!(
                "line 1: unknown column '{h}' (known: site, month, total, {})",
                GROUPS.join(", ")
            ));
        }
    }
    let group_i: Vec<Option<usize>> = GROUPS.iter().map(|g| col(g)).collect();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        if r.iter().all(str::is_empty) {
            continue;
        }
        let field = |i: usize| r.get(i).unwrap_or_default();
        let number = |name: &str, i: usize, errors: &mut Vec<String>| -> Option<f64> {
            let raw = field(i);
            if raw.is_empty() {
                return None;
            }
            let v = if semicolon {
                raw.replace(',', ".")
            } else {
                raw.to_string()
            };
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && (0.0..=100.0).contains(&x) => Some(x),
                _ => {
                    errors.push(format!(
                        "line {line}: {name}: '{raw}' is not a score between 0 and 100"
                    ));
                    None
                }
            }
        };
        let site = field(site_i).to_string();
        let site_ok = !site.is_empty()
            && site
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !site_ok {
            errors.push(format!("line {line}: site: '{site}' is not a hall id"));
        }
        let month = field(month_i).to_string();
        let month_ok = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .is_ok()
            && month.len() == 7;
        if !month_ok {
            errors.push(format!("line {line}: month: '{month}' is not YYYY-MM"));
        }
        let total = number("total", total_i, &mut errors);
        if total.is_none() && field(total_i).is_empty() {
            errors.push(format!("line {line}: total: missing"));
        }
        let mut groups = [None; 5];
        for (g, idx) in group_i.iter().enumerate() {
            if let Some(idx) = idx {
                groups[g] = number(GROUPS[g], *idx, &mut errors);
            }
        }
        if let (Some(t), true) = (total, groups.iter().all(Option::is_some)) {
            let sum: f64 = groups.iter().flatten().sum();
            if (sum - t).abs() > 0.05 {
                errors.push(format!(
                    "line {line}: total: {t} is not the sum of the five groups ({sum:.2})"
                ));
            }
        }
        if site_ok && month_ok && !seen.insert((site.clone(), month.clone())) {
            errors.push(format!("line {line}: {site} {month} appears twice"));
        }
        if let (Some(total), true, true) = (total, site_ok, month_ok) {
            out.push(Score766 {
                site,
                month,
                total,
                groups,
            });
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push("the file has no rows".into());
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Why an import was refused: the file's problems, or halls the centre does not know.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file or its halls are wrong; nothing was imported.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// The database failed.
    #[error(transparent)]
    Central(#[from] CentralError),
}

impl Central {
    /// Imports `scores` (from [`parse_scores_766`]) in one transaction, labelled with `source`
    /// (the file's name); every site must be a hall the centre knows (listed in central.toml
    /// or heard from). Returns how many rows were written.
    pub async fn import_scores_766(
        &self,
        scores: &[Score766],
        source: &str,
    ) -> Result<u64, ImportError> {
        let known: Vec<String> = self
            .client
            .query("SELECT site FROM halls ORDER BY site", &[])
            .await
            .map_err(pg("reading the halls"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let unknown: Vec<String> = scores
            .iter()
            .filter(|s| !known.contains(&s.site))
            .map(|s| {
                format!(
                    "site '{}' ({}) is not a hall of this centre (known: {})",
                    s.site,
                    s.month,
                    known.join(", ")
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(ImportError::Invalid(unknown));
        }
        // Its own connection: the transaction needs the client to itself.
        let mut client = self.second_connection().await?;
        let tx = client
            .transaction()
            .await
            .map_err(pg("importing Decision 766 scores"))?;
        let mut n = 0;
        for s in scores {
            n += tx
                .execute(
                    "INSERT INTO scores_766 (site, month, total, cong_khai, tien_do, truc_tuyen, \
                     hai_long, so_hoa, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (site, month) DO UPDATE SET total = EXCLUDED.total, \
                     cong_khai = EXCLUDED.cong_khai, tien_do = EXCLUDED.tien_do, \
                     truc_tuyen = EXCLUDED.truc_tuyen, hai_long = EXCLUDED.hai_long, \
                     so_hoa = EXCLUDED.so_hoa, source = EXCLUDED.source, imported = now()",
                    &[
                        &s.site,
                        &s.month,
                        &s.total,
                        &s.groups[0],
                        &s.groups[1],
                        &s.groups[2],
                        &s.groups[3],
                        &s.groups[4],
                        &source,
                    ],
                )
                .await
                .map_err(pg("importing Decision 766 scores"))?;
        }
        tx.commit()
            .await
            .map_err(pg("importing Decision 766 scores"))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scores_file_reads_with_commas_or_semicolons_and_decimal_commas() {
        let a = parse_scores_766(
            "site,month,total,cong_khai,tien_do,truc_tuyen,hai_long,so_hoa\n\
             xa-an-phu,2026-11,86.5,17,19,18,16.5,16\n\
             xa-binh-my,2026-11,72,,,,,\n",
        )
        .expect("valid");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].total, 86.5);
        assert_eq!(a[0].groups[3], Some(16.5));
        assert_eq!(a[1].groups, [None; 5]);
        let b = parse_scores_766("\u{feff}site;month;total\nxa-an-phu;2026-11;\"88,25\"\n")
            .expect("semicolons");
        assert_eq!(b[0].total, 88.25);
    }

    #[test]
    fn every_problem_of_a_scores_file_is_named_with_its_line() {
        let errors = parse_scores_766(
            "site,month,total,cong_khai,tien_do,truc_tuyen,hai_long,so_hoa,note\n\
             xa an phu,2026-13,120,1,1,1,1,1\n\
             xa-binh-my,2026-11,50,10,10,10,10,5\n\
             xa-binh-my,2026-11,45,,,,,\n\
             xa-tan-dinh,2026-10,,,,,,\n",
        )
        .expect_err("invalid");
        let all = errors.join("\n");
        for want in [
            "line 1: unknown column 'note'",
            "line 2: site: 'xa an phu' is not a hall id",
            "line 2: month: '2026-13' is not YYYY-MM",
            "line 2: total: '120' is not a score between 0 and 100",
            "line 3: total: 50 is not the sum of the five groups (45.00)",
            "line 4: xa-binh-my 2026-11 appears twice",
            "line 5: total: missing",
        ] {
            assert!(all.contains(want), "missing `{want}` in:\n{all}");
        }
        assert!(
            parse_scores_766("site,total\nx,1\n")
                .expect_err("no month")
                .join("")
                .contains("the header needs the columns site, month, total")
        );
    }
}
