//! Labels and number formats in Vietnamese (first) or English.

use chrono::TimeZone;
use chrono_tz::Tz;

/// The report's language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Tiếng Việt: decimal comma, `93,8%`.
    #[default]
    Vi,
    /// English: decimal point.
    En,
}

impl Lang {
    /// Parses `vi` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The Vietnamese or the English text.
    pub fn t(self, vi: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// `v` with `decimals` decimals (`12,5` / `12.5`); thousands grouped (`1.234` / `1,234`).
    pub fn num(self, v: f64, decimals: usize) -> String {
        let s = format!("{:.*}", decimals, v.abs());
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let (group, point) = match self {
            Lang::Vi => ('.', ','),
            Lang::En => (',', '.'),
        };
        let mut out = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(ch);
        }
        if !frac.is_empty() {
            out.push(point);
            out.push_str(frac);
        }
        if v < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
            out.insert(0, '-');
        }
        out
    }

    /// A count.
    pub fn count(self, v: u64) -> String {
        self.num(v as f64, 0)
    }

    /// Seconds as minutes with one decimal (`12,5`).
    pub fn minutes(self, seconds: f64) -> String {
        self.num(seconds / 60.0, 1)
    }

    /// A share 0..=1 as a percentage with one decimal (`93,8%`).
    pub fn pct(self, share: f64) -> String {
        format!("{}%", self.num(share * 100.0, 1))
    }

    /// Local `dd/mm/yyyy HH:MM` (vi) or `yyyy-mm-dd HH:MM` (en) of Unix seconds `t`.
    pub fn datetime(self, tz: Tz, t: f64) -> String {
        let Some(d) = tz.timestamp_opt(t.floor() as i64, 0).single() else {
            return String::new();
        };
        match self {
            Lang::Vi => d.format("%d/%m/%Y %H:%M").to_string(),
            Lang::En => d.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// Short weekday name, 1 = Monday.
    pub fn weekday(self, w: u32) -> &'static str {
        const VI: [&str; 7] = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"];
        const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let i = (w.clamp(1, 7) - 1) as usize;
        match self {
            Lang::Vi => VI[i],
            Lang::En => EN[i],
        }
    }

    /// `Tháng 10/2026` / `October 2026`.
    pub fn month(self, m: crate::Month) -> String {
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        match self {
            Lang::Vi => format!("Tháng {}/{}", m.month, m.year),
            Lang::En => format!("{} {}", EN[(m.month.clamp(1, 12) - 1) as usize], m.year),
        }
    }
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_both_languages() {
        assert_eq!(Lang::Vi.num(1234.56, 1), "1.234,6");
        assert_eq!(Lang::En.num(1234.56, 1), "1,234.6");
        assert_eq!(Lang::Vi.pct(0.9375), "93,8%");
        assert_eq!(Lang::Vi.minutes(750.0), "12,5");
        assert_eq!(Lang::En.num(-0.04, 1), "0.0");
        assert_eq!(Lang::En.num(-90.0, 1), "-90.0");
        assert_eq!(Lang::Vi.count(1000000), "1.000.000");
        assert_eq!(esc("<a&b>"), "&lt;a&amp;b&gt;");
    }
}
