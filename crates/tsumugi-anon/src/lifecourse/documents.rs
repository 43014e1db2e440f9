//! The release's documents for people: `codebook.md` and `report.html`, in Japanese and
//! English.

use std::collections::BTreeMap;

use super::{DatePolicy, LifecourseConfig, LifecourseReport, Measures, QuasiLevel};
use crate::report_html::HtmlReport;

/// `report.html`: the report's figures as tables and charts, in Japanese and English.
pub(super) fn report_page(r: &LifecourseReport, cfg: &LifecourseConfig) -> String {
    let mut page = HtmlReport::new(&format!(
        "リスク・有用性レポート Risk and utility report — {}",
        r.release_id
    ));
    page.paragraph(&format!(
        "申請 Application {} ({}), 承認 approved {}; 提供停止レジストリ版 opt-out registry version {}.",
        cfg.approval.application_id, r.mode, cfg.approval.decided_at, cfg.optout_version
    ));
    page.heading("対象者 Persons");
    page.table(
        &["", "persons 人"],
        &[
            vec![
                "研究ストア in the research store".into(),
                r.persons_in_store.to_string(),
            ],
            vec![
                "提供停止で除外 excluded by stop requests".into(),
                r.opted_out_excluded.to_string(),
            ],
            vec!["秘匿 suppressed".into(), r.persons_suppressed.to_string()],
            vec!["提供 released".into(), r.persons_released.to_string()],
        ],
    );
    if !r.quasi_identifiers.is_empty() {
        let rows: Vec<(String, String, String)> = r
            .quasi_identifiers
            .iter()
            .map(|q| {
                (
                    q.name.clone(),
                    format!("{}/{}", q.level, q.max_level),
                    q.meaning.clone(),
                )
            })
            .collect();
        page.generalization(&rows, r.loss.as_ref());
    }
    page.risk(
        "再識別リスク Re-identification risk (persons)",
        &r.risk_before,
        &r.risk_after,
    );
    if !r.class_sizes.is_empty() {
        page.heading("同値クラス Equivalence classes");
        page.paragraph(&format!(
            "{} classes; the smallest holds {} persons. クラス数 {}、最小クラス {} 人。",
            r.classes, r.min_class, r.classes, r.min_class
        ));
        page.bars(
            "同値クラスのサイズ別の人数 Persons by the size of their class",
            &size_buckets(&r.class_sizes),
            None,
            |x| format!("{x:.0}"),
        );
    }
    page.heading("イベント Events");
    page.table(
        &["", "rows 件"],
        &[
            vec!["提供 released".into(), r.events_released.to_string()],
            vec![
                "特異なコードで削除 removed: peculiar code".into(),
                r.events_removed_peculiar.to_string(),
            ],
            vec![
                "出生・死亡(人テーブルへ) removed: birth/death".into(),
                r.events_removed_kind.to_string(),
            ],
            vec![
                "上限コーディング values top-coded".into(),
                r.values_top_coded.to_string(),
            ],
            vec![
                "下限コーディング values bottom-coded".into(),
                r.values_bottom_coded.to_string(),
            ],
            vec![
                "値の非提供 values withheld".into(),
                r.values_withheld.to_string(),
            ],
        ],
    );
    let rows: Vec<Vec<String>> = r
        .codes
        .iter()
        .map(|(system, s)| {
            vec![
                system.clone(),
                s.codes.to_string(),
                s.kept.to_string(),
                s.generalized.to_string(),
                s.removed.to_string(),
            ]
        })
        .collect();
    page.table(
        &[
            "code system",
            "codes",
            "kept 保持",
            "generalized 一般化",
            "removed 削除",
        ],
        &rows,
    );
    page.finish()
}

/// Persons per class-size bucket (k, k+1…9, 10–19, 20–49, 50–99, 100+), for the chart.
fn size_buckets(sizes: &BTreeMap<u64, u64>) -> Vec<(String, f64)> {
    const EDGES: [(u64, u64, &str); 6] = [
        (1, 4, "1-4"),
        (5, 9, "5-9"),
        (10, 19, "10-19"),
        (20, 49, "20-49"),
        (50, 99, "50-99"),
        (100, u64::MAX, "100+"),
    ];
    EDGES
        .iter()
        .filter_map(|&(lo, hi, label)| {
            let persons: u64 = sizes
                .range(lo..=hi)
                .map(|(size, classes)| size * classes)
                .sum();
            (persons > 0).then(|| (label.to_owned(), persons as f64))
        })
        .collect()
}

pub(super) fn codebook(
    cfg: &LifecourseConfig,
    person_columns: &[String],
    levels: &[QuasiLevel],
) -> String {
    let mut s = format!(
        "# Codebook コードブック — release {id}\n\n\
         Application 申請: {app}. Kind 種別: {kind}. Opt-out registry version 提供停止レジストリ版: {opt}.\n\n\
         ## persons.csv / persons.parquet (one row per person 1人1行)\n\n\
         | column | meaning |\n|---|---|\n\
         | person_id | pseudonym unique to this release (HMAC-SHA-256 under a release key); cannot be joined to other releases 本提供限りの仮ID |\n",
        id = cfg.release_id,
        app = cfg.approval.application_id,
        kind = match cfg.measures {
            Measures::Anonymized { .. } => "匿名加工 anonymized",
            Measures::Pseudonymized { .. } => "仮名加工 pseudonymized",
        },
        opt = cfg.optout_version,
    );
    let reference = cfg.reference_date;
    for name in person_columns {
        let released = levels
            .iter()
            .find(|q| &q.name == name)
            .map(|q| format!(" — released as: {} (`*` = suppressed)", q.meaning))
            .unwrap_or_default();
        let meaning = match name.as_str() {
            "sex" => "M / F / U 性別".to_owned(),
            "age" => format!("age on {reference}, 90 and over as `90+` 年齢"),
            "birth_month" => "YYYY-MM 生年月".to_owned(),
            "region" => "全国地方公共団体コード (6 digits), 都道府県コード (2), or 地方 name; empty when unknown 地域".to_owned(),
            "death" => "YYYY-MM of death, year, or `deceased`; empty when alive 死亡".to_owned(),
            "death_date" => "date of death, empty when alive 死亡日".to_owned(),
            other => match &cfg.measures {
                Measures::Anonymized { first_year_of, .. } => first_year_of
                    .iter()
                    .find(|f| format!("first_year_{}", f.name) == other)
                    .map(|f| {
                        format!(
                            "year of the person's first {} code starting with `{}`, `yes`/`no` when coarsened; empty when none 初回の年",
                            f.system, f.prefix
                        )
                    })
                    .unwrap_or_default(),
                Measures::Pseudonymized { .. } => String::new(),
            },
        };
        s.push_str(&format!("| {name} | {meaning}{released} |\n"));
    }
    let dates = match &cfg.measures {
        Measures::Anonymized { dates, .. } => *dates,
        Measures::Pseudonymized { .. } => DatePolicy::Exact,
    };
    let date_meaning = match dates {
        DatePolicy::Month => "YYYY-MM 年月".to_owned(),
        DatePolicy::Shift { max_days } => format!(
            "YYYY-MM-DD shifted by a per-person offset of at most {max_days} days (the same for all of a person's events; intervals are exact) 個人ごとにずらした日付"
        ),
        DatePolicy::DaysFromIndex => {
            "days since the person's first event 初回イベントからの日数".to_owned()
        }
        DatePolicy::Exact => "YYYY-MM-DD as recorded 日付".to_owned(),
    };
    s.push_str(&format!(
        "\n## events.csv / events.parquet\n\n\
         | column | meaning |\n|---|---|\n\
         | person_id | as above |\n\
         | date | {date_meaning} |\n\
         | end_date | the same for the end of the event, empty when none 終了 |\n\
         | kind | event kind (diagnosis, lab_result, prescription, …) 種別 |\n\
         | code_system | icd10, jlac10, kenshin_item, yj, … コード体系 |\n\
         | code | the code at the level in `code_level` コード |\n\
         | code_level | `code` as recorded; else the level it was generalized to because fewer than k persons hold it (icd10: `3char`, `block`, `chapter`; yj: `ingredient`, `class4`, `class3`, `class1`; jlac10 and 特定健診 items: `analyte`, `group2`, `group1`) 一般化の水準 |\n\
         | value | numeric result 値 |\n\
         | value_coded | `top` / `bottom`: the value was beyond the k-th most extreme person's and is set to that cut; `withheld`: fewer than k persons have a value for the code 上限・下限コーディング |\n\
         | unit | unit of the value 単位 |\n"
    ));
    if let Measures::Anonymized { k, .. } = cfg.measures {
        s.push_str(&format!(
            "\nMeasures 加工の内容: every class of persons on the person table's columns holds at least {k} persons; \
             events with codes held by fewer than {k} persons at every level are removed (特異な記述); \
             birth and death events are removed (age and death are in the person table); the research store holds no names, \
             identifiers or free text.\n"
        ));
    }
    s
}
