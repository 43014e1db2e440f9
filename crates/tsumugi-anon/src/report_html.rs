//! The release report as one self-contained HTML page (no script, no external file): tables
//! and horizontal bar charts drawn as inline SVG, so it opens offline in any browser and can
//! be archived with the package.

use std::fmt::Write;

use crate::metric::InfoLoss;
use crate::risk::Risk;

/// A share as a percentage, with more digits for the small ones (population uniqueness).
pub(crate) fn pct(x: f64) -> String {
    if x > 0.0 && x < 1e-3 {
        format!("{:.5}%", x * 100.0)
    } else {
        format!("{:.2}%", x * 100.0)
    }
}

/// An HTML page being built, section by section.
pub(crate) struct HtmlReport {
    out: String,
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
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

const STYLE: &str = "body{font-family:system-ui,'Hiragino Sans','Noto Sans CJK JP',sans-serif;\
margin:2rem auto;max-width:60rem;color:#222;line-height:1.5}\
h1{font-size:1.5rem}h2{font-size:1.15rem;border-bottom:1px solid #ccc;margin-top:2rem}\
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;\
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.25rem}\
svg text{font-size:12px;fill:#222}";

impl HtmlReport {
    /// Starts a page titled `title` (Japanese and English in one string).
    pub(crate) fn new(title: &str) -> HtmlReport {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\">\
             <title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
            t = esc(title)
        );
        HtmlReport { out }
    }

    /// A section heading.
    pub(crate) fn heading(&mut self, text: &str) {
        let _ = writeln!(self.out, "<h2>{}</h2>", esc(text));
    }

    /// A paragraph.
    pub(crate) fn paragraph(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p>{}</p>", esc(text));
    }

    /// A table; cells that parse as numbers are right-aligned.
    pub(crate) fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.out.push_str("<table><thead><tr>");
        for h in header {
            let _ = write!(self.out, "<th>{}</th>", esc(h));
        }
        self.out.push_str("</tr></thead><tbody>\n");
        for row in rows {
            self.out.push_str("<tr>");
            for cell in row {
                let numeric = cell.trim_end_matches('%').parse::<f64>().is_ok();
                let class = if numeric { " class=\"n\"" } else { "" };
                let _ = write!(self.out, "<td{class}>{}</td>", esc(cell));
            }
            self.out.push_str("</tr>\n");
        }
        self.out.push_str("</tbody></table>\n");
    }

    /// A horizontal bar chart of `bars` (label, value), scaled to `max` (or the largest
    /// value), each value printed with `fmt`.
    pub(crate) fn bars(
        &mut self,
        caption: &str,
        bars: &[(String, f64)],
        max: Option<f64>,
        fmt: impl Fn(f64) -> String,
    ) {
        const LABEL_W: f64 = 220.0;
        const BAR_W: f64 = 420.0;
        const ROW_H: f64 = 22.0;
        let top = max
            .unwrap_or_else(|| bars.iter().map(|b| b.1).fold(0.0, f64::max))
            .max(f64::MIN_POSITIVE);
        let height = ROW_H * bars.len().max(1) as f64 + 4.0;
        let _ = write!(
            self.out,
            "<figure><figcaption>{c}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" \
             role=\"img\" aria-label=\"{c}\" width=\"{w}\" height=\"{height}\">",
            c = esc(caption),
            w = LABEL_W + BAR_W + 90.0,
        );
        for (i, (label, value)) in bars.iter().enumerate() {
            let y = ROW_H * i as f64 + 2.0;
            let width = (value / top).clamp(0.0, 1.0) * BAR_W;
            let _ = write!(
                self.out,
                "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{l}</text>\
                 <rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{width:.1}\" height=\"{bh}\" fill=\"#4a78b5\">\
                 <title>{l}: {v}</title></rect>\
                 <text x=\"{vx:.1}\" y=\"{ty}\">{v}</text>",
                lx = LABEL_W - 6.0,
                ty = y + 14.0,
                l = esc(label),
                bh = ROW_H - 6.0,
                vx = LABEL_W + width + 4.0,
                v = esc(&fmt(*value)),
            );
        }
        self.out.push_str("</svg></figure>\n");
    }

    /// The generalization table — per quasi-identifier its name, level (`l/max`) and what the
    /// level means — with each one's information loss, and the loss as a chart.
    pub(crate) fn generalization(
        &mut self,
        rows: &[(String, String, String)],
        loss: Option<&InfoLoss>,
    ) {
        self.heading("一般化 Generalization");
        let per = |j: usize| loss.and_then(|l| l.per_attribute.get(j)).copied();
        let table: Vec<Vec<String>> = rows
            .iter()
            .enumerate()
            .map(|(j, (name, level, meaning))| {
                let l = per(j).map(|x| format!("{x:.4}")).unwrap_or_default();
                vec![name.clone(), level.clone(), meaning.clone(), l]
            })
            .collect();
        self.table(
            &[
                "quasi-identifier 準識別子",
                "level 水準",
                "released as 提供形式",
                "loss 情報損失",
            ],
            &table,
        );
        let bars: Vec<(String, f64)> = rows
            .iter()
            .enumerate()
            .filter_map(|(j, (name, _, _))| per(j).map(|x| (name.clone(), x)))
            .collect();
        if !bars.is_empty() {
            self.bars(
                "属性ごとの情報損失 Information loss per attribute (0 = none, 1 = all)",
                &bars,
                Some(1.0),
                |x| format!("{x:.3}"),
            );
        }
    }

    /// The re-identification risk before and after, as a table and a chart.
    pub(crate) fn risk(&mut self, heading: &str, before: &Risk, after: &Risk) {
        self.heading(heading);
        let row = |name: &str, f: &dyn Fn(&Risk) -> Option<f64>| -> Option<Vec<String>> {
            let (b, a) = (f(before), f(after));
            (b.is_some() || a.is_some()).then(|| {
                let cell = |x: Option<f64>| x.map(pct).unwrap_or_else(|| "-".to_owned());
                vec![name.to_owned(), cell(b), cell(a)]
            })
        };
        let rows: Vec<Vec<String>> = [
            row("最大リスク highest prosecutor risk", &|x| {
                Some(x.highest_prosecutor_risk)
            }),
            row("平均リスク average prosecutor risk", &|x| {
                Some(x.average_prosecutor_risk)
            }),
            row("最大リスクの割合 records at highest risk", &|x| {
                Some(x.records_at_highest_risk)
            }),
            row("標本一意 sample uniques", &|x| Some(x.sample_uniques)),
            row(
                "ジャーナリストリスク(最大) journalist risk, highest",
                &|x| x.journalist.as_ref().map(|j| j.highest_risk),
            ),
            row(
                "母集団一意(推定) population uniques, estimated",
                &|x| x.population.as_ref().map(|p| p.dankar),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.table(&["", "before 加工前", "after 加工後"], &rows);
        if let Some(p) = &after.population {
            self.paragraph(&format!(
                "母集団 population {} (sampling fraction 抽出率 {}); model モデル {}.",
                p.population_size,
                pct(p.sampling_fraction),
                p.dankar_model
                    .map_or("none (no sample uniques)".to_owned(), |m| format!("{m:?}"))
            ));
        }
        self.bars(
            "最大リスク Highest prosecutor risk (before → after)",
            &[
                ("before 加工前".into(), before.highest_prosecutor_risk),
                ("after 加工後".into(), after.highest_prosecutor_risk),
            ],
            Some(1.0),
            pct,
        );
    }

    /// The finished page.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</body></html>\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_draws_one_bar_per_value() {
        let mut r = HtmlReport::new("report <1>");
        r.table(&["a"], &[vec!["<script>".into()], vec!["12.5%".into()]]);
        r.bars(
            "sizes",
            &[("5".into(), 3.0), ("6-9".into(), 6.0)],
            None,
            |v| format!("{v}"),
        );
        let html = r.finish();
        assert!(html.contains("report &lt;1&gt;") && !html.contains("<script>"));
        assert_eq!(html.matches("<rect").count(), 2);
        assert!(
            html.contains("width=\"420.0\""),
            "the largest bar fills the width"
        );
        assert!(html.contains("<td class=\"n\">12.5%</td>"));
    }
}
