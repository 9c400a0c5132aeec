//! Charts as inline SVG pictures (printed by Chromium as vector graphics).

use crate::format::{Lang, esc};
use std::fmt::Write;

/// One series of a bar chart.
pub struct BarSeries<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Fill colour.
    pub color: &'a str,
    /// One value per category (None: no bar).
    pub values: Vec<Option<f64>>,
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Grouped vertical bars over `categories`, with a y axis and a legend.
pub fn bars(
    lang: Lang,
    categories: &[String],
    series: &[BarSeries<'_>],
    width: f64,
    height: f64,
    decimals: usize,
) -> String {
    let (left, right, top, bottom) = (44.0, 8.0, 22.0, 28.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let ymax = nice_max(max);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-size="9" font-family="DejaVu Sans, sans-serif">"#
    );
    for i in 0..=4 {
        let v = ymax * f64::from(i) / 4.0;
        let y = top + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            width - right,
            left - 4.0,
            y + 3.0,
            lang.num(
                v,
                if v.fract() == 0.0 {
                    decimals
                } else {
                    decimals.max(1)
                }
            )
        );
    }
    let n = categories.len().max(1) as f64;
    let group_w = plot_w / n;
    let k = series.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / k).max(1.0);
    let label_every = (categories.len() / 16).max(1);
    for (ci, cat) in categories.iter().enumerate() {
        let gx = left + group_w * ci as f64 + group_w * 0.1;
        for (si, s) in series.iter().enumerate() {
            if let Some(Some(v)) = s.values.get(ci) {
                let h = plot_h * (v / ymax).clamp(0.0, 1.0);
                let _ = write!(
                    svg,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
                    gx + bar_w * si as f64,
                    top + plot_h - h,
                    bar_w,
                    h,
                    s.color
                );
            }
        }
        if ci % label_every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                left + group_w * (ci as f64 + 0.5),
                top + plot_h + 12.0,
                esc(cat)
            );
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{}" stroke="#888"/>"##,
        top + plot_h
    );
    let mut lx = left;
    for s in series {
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="4" width="10" height="10" fill="{}"/><text x="{:.1}" y="13">{}</text>"#,
            s.color,
            lx + 14.0,
            esc(s.name)
        );
        lx += 24.0 + 6.0 * s.name.chars().count() as f64;
    }
    svg.push_str("</svg>");
    svg
}

/// A weekday x hour grid of the mean queue, shaded by value, with the value in each cell.
pub fn heatmap(
    lang: Lang,
    cells: &[(u32, u32, f64)],
    hours: std::ops::RangeInclusive<u32>,
) -> String {
    let cw = 40.0;
    let ch = 20.0;
    let left = 34.0;
    let top = 16.0;
    let ncols = hours.clone().count() as f64;
    let width = left + cw * ncols + 4.0;
    let height = top + ch * 7.0 + 4.0;
    let max = cells.iter().fold(0.0f64, |a, c| a.max(c.2)).max(1e-9);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-size="9" font-family="DejaVu Sans, sans-serif">"#
    );
    for (j, h) in hours.clone().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="11" text-anchor="middle">{h}h</text>"#,
            left + cw * (j as f64 + 0.5)
        );
    }
    for w in 1..=7u32 {
        let y = top + ch * f64::from(w - 1);
        let _ = write!(
            svg,
            r#"<text x="2" y="{:.1}">{}</text>"#,
            y + 14.0,
            lang.weekday(w)
        );
        for (j, h) in hours.clone().enumerate() {
            let x = left + cw * j as f64;
            let v = cells.iter().find(|c| c.0 == w && c.1 == h).map(|c| c.2);
            let (fill, text) = match v {
                Some(v) => {
                    let a = (v / max).clamp(0.0, 1.0);
                    let r = (255.0 - a * (255.0 - 200.0)) as u8;
                    let g = (255.0 - a * (255.0 - 60.0)) as u8;
                    let b = (255.0 - a * (255.0 - 40.0)) as u8;
                    (format!("rgb({r},{g},{b})"), lang.num(v, 1))
                }
                None => ("#f4f4f4".to_string(), String::new()),
            };
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{cw}" height="{ch}" fill="{fill}" stroke="#fff"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{text}</text>"##,
                x + cw / 2.0,
                y + 14.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
