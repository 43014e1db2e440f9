//! Everything the CLI prints: bilingual lines, JSON, the demo summary.
#![allow(clippy::print_stdout, clippy::print_stderr)] // the CLI's one place that writes to the terminal

use std::process::ExitCode;

use serde::Serialize;
use tsumugi_app::AuditStatus;
use tsumugi_app::demo::DemoReport;
use tsumugi_app::ingest::SubmitReport;

/// One line on stdout.
pub fn line(s: &str) {
    println!("{s}");
}

/// Pretty JSON on stdout.
pub fn json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// An error and its causes on stderr.
pub fn error(e: &anyhow::Error) {
    eprintln!("エラー / error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  原因 / caused by: {cause}");
    }
}

/// One submission's outcome.
pub fn submission(r: &SubmitReport) {
    if r.duplicate {
        println!(
            "提出 #{} は受領済み（同一内容）/ submission #{} already received (same SHA-256): nothing to do",
            r.submission_id, r.submission_id
        );
        return;
    }
    println!(
        "提出 / submission #{}: {} records, {} accepted 受理, {} rejected 却下, {} refused (opt-out) 停止請求, {} held (notice) 保留, {} events",
        r.submission_id,
        r.n_records,
        r.n_accepted,
        r.n_rejected,
        r.n_opted_out,
        r.n_held,
        r.n_events
    );
    if let Some(p) = &r.rejection_report {
        println!("  却下理由 / rejection report: {}", p.display());
    }
}

/// A `check` report for people: counts, then one line per finding.
pub fn check(r: &tsumugi_app::ingest::CheckReport) {
    println!(
        "{} [{}]: {} records, {} OK 受理可, {} rejected 却下",
        r.file, r.format, r.n_records, r.n_accepted, r.n_rejected
    );
    for d in &r.diagnostics {
        let sev = match d.severity {
            tsumugi_model::Severity::Error => "error 却下",
            tsumugi_model::Severity::Warning => "warning 警告",
        };
        println!(
            "  {}:{}{} {} {}{}: {} / {}",
            d.file,
            d.record,
            d.line.map(|l| format!(" (line {l})")).unwrap_or_default(),
            sev,
            d.code,
            d.field
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default(),
            d.reason_ja,
            d.reason_en
        );
    }
}

/// The audit verification result, and the exit code it means.
pub fn audit(s: &AuditStatus) -> ExitCode {
    match &s.first_bad {
        None => {
            println!(
                "監査ログ正常 / audit chain intact: {} entries, {} signed checkpoints",
                s.n_entries, s.n_checkpoints
            );
            ExitCode::SUCCESS
        }
        Some((seq, reason)) => {
            eprintln!("監査ログ破損 / audit chain broken at entry {seq}: {reason}");
            ExitCode::from(3)
        }
    }
}

/// The demo's summary.
pub fn demo(r: &DemoReport) {
    println!();
    println!("tsumugi demo — {} persons 人", r.n_persons_generated);
    println!("{:-<100}", "");
    println!("{:<40} {:>8}  detail", "step 工程", "seconds");
    let mut total = 0.0;
    for s in &r.steps {
        total += s.seconds;
        println!("{:<40} {:>8.2}  {}", s.step, s.seconds, s.detail);
    }
    println!("{:<40} {:>8.2}", "total 合計", total);
    println!("{:-<100}", "");
    println!(
        "submissions 提出            {} (duplicate ignored 重複無視: {})",
        r.n_submissions, r.duplicate_ignored
    );
    println!(
        "  {:<28} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "per format 形式別", "files", "records", "accepted", "rejected", "refused", "events"
    );
    for f in &r.per_format {
        println!(
            "  {:<28} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}",
            f.format,
            f.n_submissions,
            f.n_records,
            f.n_accepted,
            f.n_rejected,
            f.n_refused_optout,
            f.n_events
        );
    }
    println!("records read 読込           {}", r.n_records);
    println!("rejected 却下               {}", r.n_rejected);
    println!("refused at ingest (opt-out) {}", r.n_refused_optout);
    println!(
        "held for notice 通知待ち保留 {} no notice 通知なし, {} within waiting period 待機期間内",
        r.build.n_held_no_notice, r.build.n_held_waiting
    );
    println!(
        "opted out 提供停止           early {} (+{} after linkage), late {}; persons purged {}",
        r.optout_early.n_registered,
        r.optout_rematch.n_persons_purged,
        r.optout_late.n_registered,
        r.optout_early.n_persons_purged
            + r.optout_rematch.n_persons_purged
            + r.optout_late.n_persons_purged
    );
    println!(
        "linked persons 名寄せ後人数  {} from {} records ({} candidate pairs, {} for clerical review 要確認)",
        r.link.n_persons, r.link.n_records, r.link.n_candidate_pairs, r.link.n_review
    );
    println!(
        "linkage quality 名寄せ精度   precision {:.4} recall {:.4} F1 {:.4} ({} true persons, {} found)",
        r.link_quality.precision,
        r.link_quality.recall,
        r.link_quality.f1,
        r.link_quality.n_true_persons,
        r.link_quality.n_found_persons
    );
    println!(
        "research store 研究用DB     {} persons, {} events",
        r.rebuild.n_persons, r.rebuild.n_events
    );
    for rel in [&r.release, &r.release_after_optout] {
        let rep = &rel.report;
        println!(
            "release 提供 {}  {} persons, {} events, k=5 smallest class {}, opt-out registry v{}",
            rel.release_id, rel.n_persons, rel.n_events, rel.min_class, rel.optout_version
        );
        let levels: Vec<String> = rep
            .quasi_identifiers
            .iter()
            .map(|q| format!("{} {}/{}", q.name, q.level, q.max_level))
            .collect();
        println!(
            "  risk リスク highest {:.1}% → {:.2}%, sample uniques {:.1}% → {:.1}%; loss 情報損失 {}; \
             {} suppressed; codes removed/generalized {}/{}; {}",
            rep.risk_before.highest_prosecutor_risk * 100.0,
            rep.risk_after.highest_prosecutor_risk * 100.0,
            rep.risk_before.sample_uniques * 100.0,
            rep.risk_after.sample_uniques * 100.0,
            rep.loss
                .as_ref()
                .and_then(|l| l.value.first())
                .map_or("-".to_owned(), |v| format!("{v:.4}")),
            rep.persons_suppressed,
            rep.codes.values().map(|c| c.removed).sum::<u64>(),
            rep.codes.values().map(|c| c.generalized).sum::<u64>(),
            levels.join(", ")
        );
        println!("  report レポート {}/report.html", rel.dir);
    }
    println!(
        "statistics 統計 {}  {} cells, {} primary + {} secondary suppressed",
        r.statistics.result_id,
        r.statistics.n_cells,
        r.statistics.n_primary,
        r.statistics.n_secondary
    );
    println!(
        "audit 監査ログ              {} entries, {} checkpoints, {}",
        r.audit.n_entries,
        r.audit.n_checkpoints,
        if r.audit.first_bad.is_none() {
            "intact 正常"
        } else {
            "BROKEN 破損"
        }
    );
    println!("{:-<100}", "");
    println!("outputs 出力:");
    println!("  data directory     {}", r.data_dir);
    println!(
        "  releases           {}",
        r.release_after_optout
            .dir
            .rsplit_once('/')
            .map_or("", |(d, _)| d)
    );
    println!("  latest release     {}", r.release_after_optout.dir);
    println!("  statistics table   {}", r.statistics.csv_path);
    if let Some(p) = &r.rejection_report {
        println!("  rejection report   {p}");
    }
    println!(
        "  synthetic input    {} (ground truth in truth/, outside the data directory)",
        r.synth_dir
    );
}

/// The `tsumugi bench ingest` table.
pub fn bench(r: &tsumugi_app::bench::Report) {
    println!(
        "取込性能 / ingest throughput: ≥{} events{} per format, one core, seed {}",
        r.events_requested,
        if r.bytes_requested > 0 {
            format!(" and ≥{} bytes", r.bytes_requested)
        } else {
            String::new()
        },
        r.seed
    );
    println!(
        "{:<12} {:>9} {:>9} {:>10} {:>8} {:>8} {:>11} {:>11} {:>9} {:>7} {:>5}",
        "format",
        "input MB",
        "records",
        "events",
        "parse s",
        "MB/s",
        "records/s",
        "events/s",
        "RSS MB",
        "floor",
        "pass"
    );
    for row in &r.formats {
        let p = &row.parse;
        println!(
            "{:<12} {:>9.1} {:>9} {:>10} {:>8.2} {:>8.1} {:>11.0} {:>11.0} {:>9} {:>7} {:>5}",
            p.format,
            row.input_mb,
            p.records,
            p.events,
            p.seconds,
            p.mb_per_s,
            p.records_per_s,
            p.events_per_s,
            row.peak_rss_mb
                .map_or_else(|| "-".to_owned(), |m| format!("{m:.0}")),
            row.floor_mb_per_s
                .map_or_else(|| "-".to_owned(), |f| format!("≥{f:.0}")),
            if row.pass { "PASS" } else { "FAIL" },
        );
    }
    if !r.rss_per_process {
        println!("(peak RSS is the process peak after each format in order)");
    }
    if !r.end_to_end.is_empty() {
        println!("end to end (ingest::submit: staging + vault + research store):");
        println!(
            "{:<12} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8} {:>11} {:>9}",
            "format",
            "input MB",
            "records",
            "accepted",
            "events",
            "s",
            "MB/s",
            "records/s",
            "RSS MB"
        );
        for e in &r.end_to_end {
            println!(
                "{:<12} {:>9.1} {:>9} {:>9} {:>10} {:>8.2} {:>8.1} {:>11.0} {:>9}",
                e.format,
                e.input_bytes as f64 / 1e6,
                e.records,
                e.accepted,
                e.events,
                e.seconds,
                e.mb_per_s,
                e.records_per_s,
                e.peak_rss_bytes
                    .map_or_else(|| "-".to_owned(), |b| format!("{:.0}", b as f64 / 1e6)),
            );
        }
        if !r.end_to_end_rss_per_process {
            println!("(end-to-end peak RSS is the process peak, generation included)");
        }
    }
    println!(
        "{}",
        if r.pass {
            "PASS: every floor and the RSS ceiling (500 MB) met"
        } else {
            "FAIL: a floor or the RSS ceiling was missed (or records were rejected)"
        }
    );
}

fn timings(t: &[tsumugi_app::linkage::StepTime]) -> String {
    t.iter()
        .map(|s| format!("{} {:.2}s", s.step, s.seconds))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A file linkage's figures.
pub fn link_report(r: &tsumugi_app::linkage::FileLinkReport) {
    let q = &r.quality;
    println!(
        "名寄せ / linked {} records: {} candidate pairs, {} links, {} for review 要確認, {} held apart by the twin guard 双子ガード",
        r.records, r.candidate_pairs, r.links, r.review, r.twin_guarded
    );
    println!(
        "  {} clusters 人物 ({} singletons, largest {}), mean density {:.3}, {} sparse, {} links refused one-to-one, {} weak bridges cut",
        q.clusters,
        q.singletons,
        q.largest,
        q.mean_density,
        q.sparse_clusters,
        q.refused_one_to_one,
        q.bridges_cut
    );
    println!(
        "  model: λ = {:.3e} (two random records match), EM {} iterations, u from {} random pairs",
        r.model.lambda, r.model.em_iterations, r.model.u_pairs
    );
    println!("  時間 / time: {}", timings(&r.timings));
}

/// Linkage quality against ground truth.
pub fn evaluation(e: &tsumugi_app::linkage::Evaluation) {
    println!(
        "精度 / quality over {} records ({} true persons, {} clusters):",
        e.records, e.true_persons, e.found_clusters
    );
    for (what, s) in [("pairwise ペア", &e.pairwise), ("cluster 人物", &e.cluster)] {
        println!(
            "  {what:<14} precision {:.4}  recall {:.4}  F1 {:.4}",
            s.precision, s.recall, s.f1
        );
    }
    if !e.noise.is_empty() {
        println!("  recall by noise type / ノイズ別再現率:");
        for n in &e.noise {
            println!(
                "    {:<28} {:>8} records {:>9} true pairs  recall {:.4}",
                n.noise, n.records, n.true_pairs, n.recall
            );
        }
    }
    println!("  twins merged 双子の誤結合: {}", e.twins_merged);
}

/// The weight breakdown of one pair.
pub fn explanation(a: &str, b: &str, e: &tsumugi_app::linkage::Explanation) {
    println!(
        "{a} ~ {b}: match weight {:.2}, probability {:.6}",
        e.match_weight, e.probability
    );
    println!(
        "  {:<14} {:<34} {:>8} {:>8}",
        "field", "level", "weight", "tf adj"
    );
    println!("  {:<14} {:<34} {:>8.2}", "prior", "", e.prior_weight);
    for f in &e.fields {
        println!(
            "  {:<14} {:<34} {:>8.2} {:>8.2}",
            f.field,
            f.level.as_deref().unwrap_or("(missing 欠損)"),
            f.weight,
            f.tf_adjustment
        );
    }
    if e.twin_guard {
        println!("  双子ガード / twin guard: the given names differ, so this pair is never linked");
    }
}

/// Per blocking rule.
pub fn blocking(r: &tsumugi_app::linkage::BlockingReport) {
    println!(
        "ブロッキング / blocking over {} records{}",
        r.records,
        r.true_pairs
            .map_or_else(String::new, |t| format!(", {t} true pairs"))
    );
    println!(
        "  {:<32} {:>12} {:>12} {:>8} {:>10} {:>10}",
        "rule", "pairs", "new pairs", "skipped", "recall", "cumulative"
    );
    let mut cumulative = 0u64;
    for s in &r.rules {
        let recall = |n: Option<u64>| match (n, r.true_pairs) {
            (Some(n), Some(t)) if t > 0 => format!("{:.4}", n as f64 / t as f64),
            _ => "-".to_owned(),
        };
        cumulative += s.new_true_pairs.unwrap_or(0);
        println!(
            "  {:<32} {:>12} {:>12} {:>8} {:>10} {:>10}",
            s.rule,
            s.pairs,
            s.new_pairs,
            s.skipped_blocks,
            recall(s.true_pairs),
            recall(s.new_true_pairs.map(|_| cumulative))
        );
    }
}

/// What `anonymize` released.
pub fn anonymize(run: &tsumugi_app::anonymize::AnonymizeRun, out: &std::path::Path) {
    let r = &run.report;
    println!(
        "匿名加工 / anonymized: {} of {} rows released in {} classes (smallest {}), {} suppressed → {}",
        r.released_rows,
        r.rows,
        r.classes,
        r.min_class,
        r.suppressed_rows,
        out.display()
    );
    let levels: Vec<String> = r
        .generalization
        .iter()
        .map(|(name, level, top)| format!("{name} {level}/{top}"))
        .collect();
    println!("  一般化 / generalization: {}", levels.join(", "));
    println!(
        "  情報損失 / loss {:?} (per attribute {:?}); {} of {} nodes checked{}",
        r.loss.value,
        r.loss.per_attribute,
        r.search.nodes_checked,
        r.search.lattice_size,
        if r.search.optimal {
            ", optimal"
        } else {
            ", heuristic: may not be optimal"
        }
    );
    println!(
        "  {:.3} s (read {:.3}, search {:.3}, write {:.3}), peak RSS {}",
        run.seconds,
        run.steps.read,
        run.steps.search,
        run.steps.write,
        run.peak_rss_bytes
            .map_or_else(|| "-".to_owned(), |b| format!("{:.0} MB", b as f64 / 1e6))
    );
}

/// `bench link` figures.
pub fn bench_link(f: &tsumugi_app::linkage::LinkBenchFigures) {
    println!(
        "名寄せ性能 / linkage: {} records deduplicated end to end in {:.1} s, peak RSS {}",
        f.records,
        f.seconds,
        f.peak_rss_bytes
            .map_or_else(|| "-".to_owned(), |b| format!("{:.0} MB", b as f64 / 1e6))
    );
    link_report(&f.report);
    evaluation(&f.evaluation);
    if let Some(i) = &f.incremental {
        println!(
            "差分名寄せ / incremental: {} new records against {} in {:.2} s ({}; index built in {:.1} s): {} candidate pairs, {} new persons, {} merges of existing persons",
            i.records,
            i.existing,
            i.seconds,
            timings(&i.timings),
            i.index_seconds,
            i.candidate_pairs,
            i.new_clusters,
            i.merges
        );
        let e = &i.evaluation;
        println!(
            "  after it, over {} records: pairwise F1 {:.4} (P {:.4}, R {:.4}), cluster F1 {:.4}, twins merged {}",
            e.records,
            e.pairwise.f1,
            e.pairwise.precision,
            e.pairwise.recall,
            e.cluster.f1,
            e.twins_merged
        );
    }
}

/// The clerical-review queue.
pub fn review_queue(items: &[tsumugi_app::research::ReviewItem]) {
    println!(
        "要確認 / clerical review: {} pairs (record keys; decide with `tsumugi link decide A B match|no_match`)",
        items.len()
    );
    for i in items {
        println!(
            "  {:>10} {:>10}  probability {:.4}  queued {}",
            i.record_a, i.record_b, i.probability, i.queued_at
        );
    }
}
