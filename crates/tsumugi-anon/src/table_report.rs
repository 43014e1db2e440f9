//! `report.html` of `tsumugi anonymize`: the table's risk and utility for people, beside
//! `report.json`.

use crate::anonymize::AnonymizeReport;
use crate::report_html::HtmlReport;

/// The page for `r`.
pub(crate) fn page(r: &AnonymizeReport) -> String {
    let mut page = HtmlReport::new("リスク・有用性レポート Risk and utility report");
    page.heading("行 Rows");
    let mut rows = vec![
        vec!["入力 input".to_owned(), r.rows.to_string()],
        vec!["秘匿 suppressed".to_owned(), r.suppressed_rows.to_string()],
        vec!["提供 released".to_owned(), r.released_rows.to_string()],
        vec!["同値クラス classes".to_owned(), r.classes.to_string()],
        vec![
            "最小クラス smallest class".to_owned(),
            r.min_class.to_string(),
        ],
    ];
    if let Some(s) = r.subset_rows {
        rows.insert(
            1,
            vec!["研究対象 research subset".to_owned(), s.to_string()],
        );
    }
    page.table(&["", "rows 行"], &rows);
    let levels: Vec<(String, String, String)> = r
        .generalization
        .iter()
        .enumerate()
        .map(|(j, (name, level, top))| {
            // Under local recoding the level is the highest any class has: say how rows spread.
            if let Some(local) = &r.local {
                let per = local.rows_per_level.get(j).cloned().unwrap_or_default();
                let spread: Vec<String> = per
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(l, n)| format!("{l}: {n}"))
                    .collect();
                return (
                    name.clone(),
                    format!("≤{level}/{top}"),
                    format!(
                        "local recoding 局所再符号化, rows per level {}",
                        spread.join(", ")
                    ),
                );
            }
            let meaning = match (*level, *top) {
                (0, _) => "as is そのまま".to_owned(),
                (l, t) if l == t => "suppressed 非表示 (*)".to_owned(),
                (l, _) => format!("hierarchy level {l} 階層{l}"),
            };
            (name.clone(), format!("{level}/{top}"), meaning)
        })
        .collect();
    page.generalization(&levels, Some(&r.loss));
    page.risk(
        "再識別リスク Re-identification risk",
        &r.risk_before,
        &r.risk_after,
    );
    if !r.highest_risk_rows.is_empty() {
        page.paragraph(&format!(
            "最もリスクの高い行(値は示さない) Input rows at the highest risk (numbers only): {}",
            r.highest_risk_rows
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    page.finish()
}
