//! The heavy group-bys over quasi-identifiers as DataFusion plans (feature `scale-out`), so the
//! same plan runs on one machine or on a Ballista cluster (DESIGN §4, "Scale-out").
//!
//! Two plans touch every row; the lattice search itself works on their output:
//!
//! 1. [`tuples_plan`]: `GROUP BY` every quasi-identifier → rows and distinct persons per
//!    distinct tuple, and [`sensitive_plan`]: the same with the sensitive attribute added →
//!    the sensitive histogram per tuple. [`count_tuples`] runs both and collects them into
//!    [`TupleCounts`], which [`TupleCounts::quasi_table`] hands to the search
//!    ([`QuasiTable::from_tuples`]): same optimum, classes and loss as the in-memory path.
//! 2. [`classes_plan`]: the classes of one node. Each quasi-identifier is joined to a small
//!    table of its hierarchy (leaf → label at the node's level), then `GROUP BY` the labels →
//!    rows and distinct persons per class. [`count_classes`] collects it into [`ClassCounts`]:
//!    the final per-class check of the chosen node, counted in persons.
//!
//! Plans are built with the DataFrame and `LogicalPlanBuilder` APIs: user values (column
//! names, hierarchy labels) enter as identifiers and literals, never as SQL text. A hierarchy
//! enters as a `VALUES` plan rather than a registered `MemTable`, because Ballista ships the
//! logical plan to its scheduler and its codec cannot encode a `MemTable`; a `VALUES` node
//! travels inside the plan, so no table needs registering on the cluster.
//!
//! Values are compared as text, as the in-memory [`Table`](crate::Table) reads them: every
//! quasi-identifier and the sensitive attribute are cast to UTF-8 and nulls read as empty
//! text. Text, integer and date columns cast exactly as the in-memory reader prints them;
//! floating-point columns do not (DataFusion prints `1.0` where the reader prints `1`), so
//! they are refused as quasi-identifiers and sensitive attributes. CSV files are read with
//! every column as text, the header's names trimmed, the delimiter detected as the in-memory
//! reader does; they must be UTF-8 (CP932 files are for the in-memory path).
//!
//! Collected outputs are sorted (by tuple, by labels) so that a run is deterministic whatever
//! the partitioning of the engine that ran it.

use std::io::BufRead;
use std::path::Path;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::{count, count_distinct};
use datafusion::logical_expr::{LogicalPlanBuilder, cast as cast_expr};
use datafusion::prelude::{
    CsvReadOptions, DataFrame, Expr, JoinType, ParquetReadOptions, SessionContext, coalesce, ident,
    lit,
};
use rustc_hash::FxHashMap as HashMap;

use crate::hierarchy::Hierarchy;
use crate::quasi::{QuasiTable, TupleSensitive};
use crate::table::{Column, detect_delimiter};
use crate::{Error, Result};

/// Output column: rows per group.
const N_ROWS: &str = "n_rows";
/// Output column: distinct persons per group.
const N_PERSONS: &str = "n_persons";

/// The columns a tuple plan groups by and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TupleSpec {
    /// The quasi-identifiers, in lattice order.
    pub quasi: Vec<String>,
    /// The column naming each row's person (several rows per person): counted distinct.
    pub person: Option<String>,
    /// The sensitive attribute: counted per value.
    pub sensitive: Option<String>,
}

/// Distinct quasi-identifier tuples with their counts, collected from [`tuples_plan`] (and
/// [`sensitive_plan`]), sorted by tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TupleCounts {
    quasi: Vec<Column>,
    rows: Vec<u64>,
    persons: Option<Vec<u64>>,
    sensitive: Option<SensitiveCounts>,
}

/// A sensitive attribute's histogram per tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SensitiveCounts {
    name: String,
    values: Vec<String>,
    per_tuple: Vec<Vec<(u32, u64)>>,
}

/// The classes of one node, collected from [`classes_plan`], sorted by labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCounts {
    labels: Vec<Vec<String>>,
    rows: Vec<u64>,
    persons: Option<Vec<u64>>,
}

impl TupleCounts {
    /// One column per quasi-identifier, one code per tuple.
    pub fn quasi(&self) -> &[Column] {
        &self.quasi
    }

    /// Rows per tuple.
    pub fn rows(&self) -> &[u64] {
        &self.rows
    }

    /// Distinct persons per tuple, when the spec named a person column. They do not add up
    /// over tuples (a person may have rows in several); count classes in persons with
    /// [`count_classes`].
    pub fn persons(&self) -> Option<&[u64]> {
        self.persons.as_deref()
    }

    /// The quasi-identifiers bound to `hierarchies` (in the spec's order), and the sensitive
    /// attribute, if counted, to `sensitive_hierarchy`: ready for the lattice search.
    ///
    /// # Errors
    /// As [`QuasiTable::from_tuples`]; [`Error::InvalidConfig`] for another number of
    /// hierarchies than quasi-identifiers.
    pub fn quasi_table(
        &self,
        hierarchies: &[&Hierarchy],
        sensitive_hierarchy: Option<&Hierarchy>,
    ) -> Result<QuasiTable> {
        if hierarchies.len() != self.quasi.len() {
            return Err(Error::InvalidConfig(format!(
                "{} hierarchies for {} quasi-identifiers",
                hierarchies.len(),
                self.quasi.len()
            )));
        }
        let quasi: Vec<(&Column, &Hierarchy)> =
            self.quasi.iter().zip(hierarchies.iter().copied()).collect();
        let sensitive = self.sensitive.as_ref().map(|s| TupleSensitive {
            name: &s.name,
            values: &s.values,
            per_tuple: &s.per_tuple,
            hierarchy: sensitive_hierarchy,
        });
        QuasiTable::from_tuples(&quasi, &self.rows, sensitive)
    }
}

impl ClassCounts {
    /// Per class, its generalized values in quasi-identifier order.
    pub fn labels(&self) -> &[Vec<String>] {
        &self.labels
    }

    /// Rows per class.
    pub fn rows(&self) -> &[u64] {
        &self.rows
    }

    /// Distinct persons per class, when a person column was given.
    pub fn persons(&self) -> Option<&[u64]> {
        self.persons.as_deref()
    }
}

/// Reads a table for the plans: Parquet when the file name ends in `.parquet`, else CSV with
/// a header row, every column as text (`delimiter` detected from the header when `None`).
/// Nothing is read but the schema (and a CSV header line) until a plan runs.
///
/// # Errors
/// [`Error::Io`] / [`Error::Input`] for an unreadable, non-UTF-8 or empty CSV header;
/// [`Error::Plan`] when DataFusion cannot open the file.
pub async fn read_table(
    ctx: &SessionContext,
    path: &Path,
    delimiter: Option<u8>,
) -> Result<DataFrame> {
    let input = |line: usize, reason: &str| Error::Input {
        path: path.to_path_buf(),
        line,
        reason: reason.to_owned(),
    };
    let name = path
        .to_str()
        .ok_or_else(|| input(0, "the path is not UTF-8, which DataFusion needs"))?;
    let failed = |source| Error::Plan {
        context: format!("opening {}", path.display()),
        source,
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map_or(String::new(), |e| format!(".{e}"));
    if extension.eq_ignore_ascii_case(".parquet") {
        let options = ParquetReadOptions::default().file_extension(&extension);
        return ctx.read_parquet(name, options).await.map_err(failed);
    }
    let mut header = Vec::new();
    std::io::BufReader::new(std::fs::File::open(path).map_err(Error::io(path))?)
        .read_until(b'\n', &mut header)
        .map_err(Error::io(path))?;
    let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&header);
    let header = std::str::from_utf8(header).map_err(|_| {
        input(
            1,
            "the header is not UTF-8; DataFusion reads UTF-8 CSV only: convert the file or use the in-memory path",
        )
    })?;
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(header));
    let names: Vec<String> = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(header.as_bytes())
        .records()
        .next()
        .ok_or_else(|| input(1, "no header row"))?
        .map_err(|e| input(1, &e.to_string()))?
        .iter()
        .map(|n| n.trim().to_owned())
        .collect();
    let schema = Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    // Quoted line breaks are allowed, as the in-memory reader allows them.
    let options = CsvReadOptions::new()
        .has_header(true)
        .delimiter(delimiter)
        .schema(&schema)
        .file_extension(&extension)
        .newlines_in_values(true);
    ctx.read_csv(name, options).await.map_err(failed)
}

/// The distinct quasi-identifier tuples of `df` with their rows (`n_rows`) and, when the spec
/// names a person column, distinct non-null persons (`n_persons`): one output row per tuple,
/// the quasi-identifiers first as text (columns `qi_0`, `qi_1`, …).
///
/// # Errors
/// [`Error::InvalidConfig`] for a column the table lacks or a floating-point
/// quasi-identifier; [`Error::Plan`].
pub fn tuples_plan(df: DataFrame, spec: &TupleSpec) -> Result<DataFrame> {
    let keys = quasi_keys(&df, &spec.quasi)?;
    let mut aggregates = vec![count(lit(1)).alias(N_ROWS)];
    if let Some(person) = &spec.person {
        present(&df, person)?;
        aggregates.push(count_distinct(ident(person)).alias(N_PERSONS));
    }
    df.aggregate(keys, aggregates).map_err(plan("tuples plan"))
}

/// Rows per distinct quasi-identifier tuple and sensitive value: the quasi-identifiers as in
/// [`tuples_plan`], then the sensitive value as text (`sensitive`), then `n_rows`.
///
/// # Errors
/// As [`tuples_plan`]; [`Error::InvalidConfig`] when the spec names no sensitive column.
pub fn sensitive_plan(df: DataFrame, spec: &TupleSpec) -> Result<DataFrame> {
    let Some(sensitive) = &spec.sensitive else {
        return Err(Error::InvalidConfig(
            "the sensitive plan needs a sensitive column".into(),
        ));
    };
    let mut keys = quasi_keys(&df, &spec.quasi)?;
    keys.push(text(&df, sensitive)?.alias("sensitive"));
    df.aggregate(keys, vec![count(lit(1)).alias(N_ROWS)])
        .map_err(plan("sensitive plan"))
}

/// The classes of node `levels`: each quasi-identifier (`quasi[j]`: column and hierarchy) is
/// joined to its hierarchy's leaf → label table at `levels[j]`, and rows are grouped by the
/// labels (columns `gen_0`, `gen_1`, …) → `n_rows` and, with a person column, distinct
/// non-null persons `n_persons`. A value its hierarchy lacks gets a null label.
///
/// # Errors
/// [`Error::InvalidConfig`] for levels that do not fit the hierarchies, a missing column or a
/// floating-point quasi-identifier; [`Error::Plan`].
pub fn classes_plan(
    df: DataFrame,
    quasi: &[(&str, &Hierarchy)],
    levels: &[u8],
    person: Option<&str>,
) -> Result<DataFrame> {
    let fits = levels.len() == quasi.len()
        && quasi
            .iter()
            .zip(levels)
            .all(|((_, h), &l)| usize::from(l) < h.height());
    if !fits {
        return Err(Error::InvalidConfig(format!(
            "levels {levels:?} do not fit the hierarchies"
        )));
    }
    let names: Vec<String> = quasi.iter().map(|(n, _)| (*n).to_owned()).collect();
    let mut select = quasi_keys(&df, &names)?;
    if let Some(p) = person {
        present(&df, p)?;
        select.push(ident(p).alias("person"));
    }
    let failed = plan("classes plan");
    let (state, input) = df.into_parts();
    let mut builder = LogicalPlanBuilder::from(input)
        .project(select)
        .map_err(&failed)?;
    let mut group = Vec::with_capacity(quasi.len());
    for (j, ((_, h), &level)) in quasi.iter().zip(levels).enumerate() {
        let level = usize::from(level);
        let rows: Vec<Vec<Expr>> = (0..h.domain_size() as u32)
            .map(|leaf| {
                vec![
                    lit(h.label(0, h.generalize(0, leaf))),
                    lit(h.label(level, h.generalize(level, leaf))),
                ]
            })
            .collect();
        let (leaf, label) = (format!("leaf_{j}"), format!("gen_{j}"));
        let table = LogicalPlanBuilder::values(rows)
            .and_then(|b| {
                b.project(vec![
                    ident("column1").alias(&leaf),
                    ident("column2").alias(&label),
                ])
            })
            .and_then(LogicalPlanBuilder::build)
            .map_err(&failed)?;
        builder = builder
            .join(
                table,
                JoinType::Left,
                (vec![format!("qi_{j}")], vec![leaf]),
                None,
            )
            .map_err(&failed)?;
        group.push(ident(label));
    }
    let mut aggregates = vec![count(lit(1)).alias(N_ROWS)];
    if person.is_some() {
        aggregates.push(count_distinct(ident("person")).alias(N_PERSONS));
    }
    let plan = builder
        .aggregate(group, aggregates)
        .and_then(LogicalPlanBuilder::build)
        .map_err(&failed)?;
    Ok(DataFrame::new(state, plan))
}

/// Runs [`tuples_plan`] (and [`sensitive_plan`] when the spec names a sensitive column) and
/// collects the tuples, sorted, with their counts.
///
/// # Errors
/// As the plans; [`Error::Plan`] when a run fails.
pub async fn count_tuples(df: DataFrame, spec: &TupleSpec) -> Result<TupleCounts> {
    let m = spec.quasi.len();
    let batches = tuples_plan(df.clone(), spec)?
        .collect()
        .await
        .map_err(plan("running the tuples plan"))?;
    let mut tuples: Vec<(Vec<String>, u64, Option<u64>)> = Vec::new();
    for batch in &batches {
        let keys = text_columns(batch, m)?;
        let rows = counts(batch, m)?;
        let persons = spec
            .person
            .as_ref()
            .map(|_| counts(batch, m + 1))
            .transpose()?;
        for (r, &n) in rows.iter().enumerate() {
            let tuple = keys.iter().map(|c| c[r].clone()).collect();
            tuples.push((tuple, n, persons.as_ref().map(|p| p[r])));
        }
    }
    tuples.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let sensitive = match &spec.sensitive {
        Some(name) => Some(sensitive_counts(df, spec, name, &tuples).await?),
        None => None,
    };
    let mut quasi: Vec<Column> = spec
        .quasi
        .iter()
        .map(|name| Column {
            name: name.clone(),
            values: Vec::new(),
            codes: Vec::with_capacity(tuples.len()),
        })
        .collect();
    let mut index: Vec<HashMap<&str, u32>> = vec![HashMap::default(); m];
    for (tuple, _, _) in &tuples {
        for ((col, idx), value) in quasi.iter_mut().zip(&mut index).zip(tuple) {
            let code = *idx.entry(value.as_str()).or_insert_with(|| {
                col.values.push(value.clone());
                col.values.len() as u32 - 1
            });
            col.codes.push(code);
        }
    }
    Ok(TupleCounts {
        quasi,
        rows: tuples.iter().map(|t| t.1).collect(),
        persons: spec
            .person
            .as_ref()
            .map(|_| tuples.iter().map(|t| t.2.unwrap_or(0)).collect()),
        sensitive,
    })
}

/// Runs [`classes_plan`] and collects the classes, sorted by labels.
///
/// # Errors
/// As [`classes_plan`]; [`Error::Plan`] when the run fails; [`Error::InvalidConfig`] when a
/// column holds a value its hierarchy lacks.
pub async fn count_classes(
    df: DataFrame,
    quasi: &[(&str, &Hierarchy)],
    levels: &[u8],
    person: Option<&str>,
) -> Result<ClassCounts> {
    let m = quasi.len();
    let batches = classes_plan(df, quasi, levels, person)?
        .collect()
        .await
        .map_err(plan("running the classes plan"))?;
    let mut classes: Vec<(Vec<String>, u64, Option<u64>)> = Vec::new();
    for batch in &batches {
        let mut labels = Vec::with_capacity(m);
        for (j, (name, _)) in quasi.iter().enumerate() {
            let column = text_column(batch, j)?;
            if column.iter().any(Option::is_none) {
                return Err(Error::InvalidConfig(format!(
                    "column {name:?} holds a value its hierarchy lacks; add a row for it (the tuples plan names it)"
                )));
            }
            labels.push(column);
        }
        let rows = counts(batch, m)?;
        let persons = person.map(|_| counts(batch, m + 1)).transpose()?;
        for (r, &n) in rows.iter().enumerate() {
            let class = labels
                .iter()
                .map(|c| c[r].clone().unwrap_or_default())
                .collect();
            classes.push((class, n, persons.as_ref().map(|p| p[r])));
        }
    }
    classes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(ClassCounts {
        rows: classes.iter().map(|c| c.1).collect(),
        persons: person.map(|_| classes.iter().map(|c| c.2.unwrap_or(0)).collect()),
        labels: classes.into_iter().map(|c| c.0).collect(),
    })
}

/// Runs [`sensitive_plan`] and files each `(tuple, value, rows)` under its tuple in `tuples`
/// (sorted); values are numbered in sorted order.
async fn sensitive_counts(
    df: DataFrame,
    spec: &TupleSpec,
    name: &str,
    tuples: &[(Vec<String>, u64, Option<u64>)],
) -> Result<SensitiveCounts> {
    let m = spec.quasi.len();
    let batches = sensitive_plan(df, spec)?
        .collect()
        .await
        .map_err(plan("running the sensitive plan"))?;
    let mut entries: Vec<(usize, String, u64)> = Vec::new();
    for batch in &batches {
        let keys = text_columns(batch, m + 1)?;
        let rows = counts(batch, m + 1)?;
        for (r, &n) in rows.iter().enumerate() {
            let tuple: Vec<String> = keys[..m].iter().map(|c| c[r].clone()).collect();
            let t = tuples
                .binary_search_by(|probe| probe.0.cmp(&tuple))
                .map_err(|_| {
                    Error::Internal(
                        "the sensitive plan found a tuple the tuples plan did not".into(),
                    )
                })?;
            entries.push((t, keys[m][r].clone(), n));
        }
    }
    let mut values: Vec<String> = entries.iter().map(|e| e.1.clone()).collect();
    values.sort_unstable();
    values.dedup();
    let mut per_tuple: Vec<Vec<(u32, u64)>> = vec![Vec::new(); tuples.len()];
    for (t, value, n) in entries {
        let id = values.binary_search(&value).unwrap_or_default() as u32;
        per_tuple[t].push((id, n));
    }
    for hist in &mut per_tuple {
        hist.sort_unstable();
    }
    Ok(SensitiveCounts {
        name: name.to_owned(),
        values,
        per_tuple,
    })
}

/// The quasi-identifiers as text group keys `qi_j`.
fn quasi_keys(df: &DataFrame, names: &[String]) -> Result<Vec<Expr>> {
    if names.is_empty() {
        return Err(Error::InvalidConfig("no quasi-identifier given".into()));
    }
    names
        .iter()
        .enumerate()
        .map(|(j, n)| Ok(text(df, n)?.alias(format!("qi_{j}"))))
        .collect()
}

/// Column `name` as text, nulls as empty text (as the in-memory reader reads them).
fn text(df: &DataFrame, name: &str) -> Result<Expr> {
    let field = present(df, name)?;
    if field.is_floating() || matches!(field, DataType::Decimal128(..) | DataType::Decimal256(..)) {
        return Err(Error::InvalidConfig(format!(
            "column {name:?} is {field}; DataFusion prints such numbers unlike the in-memory reader, so group by it as text or integers"
        )));
    }
    Ok(coalesce(vec![
        cast_expr(ident(name), DataType::Utf8),
        lit(""),
    ]))
}

/// The type of column `name`.
fn present(df: &DataFrame, name: &str) -> Result<DataType> {
    df.schema()
        .field_with_unqualified_name(name)
        .map(|f| f.data_type().clone())
        .map_err(|_| Error::InvalidConfig(format!("the table has no column {name:?}")))
}

fn plan(context: &'static str) -> impl Fn(DataFusionError) -> Error {
    move |source| Error::Plan {
        context: context.to_owned(),
        source,
    }
}

/// Columns `0..n` of a plan's output as text, nulls refused.
fn text_columns(batch: &RecordBatch, n: usize) -> Result<Vec<Vec<String>>> {
    (0..n)
        .map(|j| {
            text_column(batch, j)?
                .into_iter()
                .map(|v| {
                    v.ok_or_else(|| Error::Internal(format!("a null group key in column {j}")))
                })
                .collect()
        })
        .collect()
}

/// Column `j` of a plan's output as text.
fn text_column(batch: &RecordBatch, j: usize) -> Result<Vec<Option<String>>> {
    let array = output_column(batch, j)?;
    let array: ArrayRef = cast(array, &DataType::Utf8)
        .map_err(|e| Error::Internal(format!("output column {j} is not text: {e}")))?;
    let strings = array
        .as_string_opt::<i32>()
        .ok_or_else(|| Error::Internal(format!("output column {j} is not text")))?;
    Ok(strings.iter().map(|v| v.map(str::to_owned)).collect())
}

/// Column `j` of a plan's output as counts.
fn counts(batch: &RecordBatch, j: usize) -> Result<Vec<u64>> {
    let array = output_column(batch, j)?;
    let ints = array
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| Error::Internal(format!("output column {j} is not a count")))?;
    ints.iter()
        .map(|v| {
            v.and_then(|n| u64::try_from(n).ok()).ok_or_else(|| {
                Error::Internal(format!("output column {j}: a null or negative count"))
            })
        })
        .collect()
}

fn output_column(batch: &RecordBatch, j: usize) -> Result<&ArrayRef> {
    if j < batch.num_columns() {
        Ok(batch.column(j))
    } else {
        Err(Error::Internal(format!(
            "a plan's output has {} columns, not over {j}",
            batch.num_columns()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> Hierarchy {
        Hierarchy::parse_arx(text, b';').unwrap()
    }

    #[tokio::test]
    async fn counts_tuples_and_classes_of_a_csv_with_persons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        // A BOM, `;`, a padded header name, an empty value, two rows of person 1.
        std::fs::write(
            &path,
            "\u{feff}person; sex;age;disease\n1;M;1;flu\n1;M;1;flu\n2;M;2;cold\n3;F;7;flu\n4;;7;cold\n",
        )
        .unwrap();
        let ctx = SessionContext::new();
        let df = read_table(&ctx, &path, None).await.unwrap();
        let spec = TupleSpec {
            quasi: vec!["sex".into(), "age".into()],
            person: Some("person".into()),
            sensitive: Some("disease".into()),
        };
        let t = count_tuples(df.clone(), &spec).await.unwrap();
        assert_eq!(t.rows(), &[1, 1, 2, 1]);
        assert_eq!(t.persons(), Some(&[1, 1, 1, 1][..]));
        assert_eq!(t.quasi()[0].values, vec!["", "F", "M"]);
        let sensitive = t.sensitive.as_ref().unwrap();
        assert_eq!(sensitive.values, vec!["cold", "flu"]);
        assert_eq!(sensitive.per_tuple[2], vec![(1, 2)]);
        let sex = h("M;*\nF;*\n;*\n");
        let age = h("1;0-4;*\n2;0-4;*\n7;5-9;*\n");
        let quasi = [("sex", &sex), ("age", &age)];
        let c = count_classes(df.clone(), &quasi, &[1, 1], Some("person"))
            .await
            .unwrap();
        assert_eq!(c.labels(), &[vec!["*", "0-4"], vec!["*", "5-9"]]);
        assert_eq!(c.rows(), &[3, 2]);
        assert_eq!(c.persons(), Some(&[2, 2][..]));
        let missing = h("M;*\nF;*\n");
        let err = count_classes(df, &[("sex", &missing)], &[0], None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("hierarchy lacks"), "{err}");
    }
}
