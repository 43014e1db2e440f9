//! Generalization hierarchies: each value of a column and what it becomes at every level.
//!
//! A hierarchy is a table with one row per original value (the leaf, level 0) and one column
//! per level, the last usually `*` — ARX's CSV format (`value;level1;level2;…`), which is what
//! analysts already have. It must be a tree: two leaves with the same value at one level have
//! the same value at every higher level, so a grouping at a lower level can be rolled up into
//! one at a higher level (the search relies on it).

use std::collections::HashMap;
use std::path::Path;

/// Why a hierarchy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HierarchyError {
    /// A row has another number of levels than the first row.
    #[error("ANON0101Ragged: row {row} has {found} levels, the first row {expected}")]
    Ragged {
        /// 1-based row.
        row: usize,
        /// Levels in this row.
        found: usize,
        /// Levels in the first row.
        expected: usize,
    },
    /// A leaf value appears in two rows.
    #[error("ANON0102DuplicateLeaf: row {row}: value {value:?} is already at row {first}")]
    DuplicateLeaf {
        /// 1-based row of the repeat.
        row: usize,
        /// 1-based row of the first occurrence.
        first: usize,
        /// The value.
        value: String,
    },
    /// A generalized value has two parents: the hierarchy is not a tree.
    #[error(
        "ANON0103NotATree: row {row}: {value:?} at level {level} generalizes to {parent:?}, but to {other:?} in an earlier row"
    )]
    NotATree {
        /// 1-based row.
        row: usize,
        /// The level of `value`.
        level: usize,
        /// The value with two parents.
        value: String,
        /// Its parent in this row.
        parent: String,
        /// Its parent in an earlier row.
        other: String,
    },
    /// No rows.
    #[error("ANON0104Empty: the hierarchy has no rows")]
    Empty,
    /// The file could not be read.
    #[error("ANON0105Read: {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// A generalization hierarchy over one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    /// Per level, the distinct values (level 0: the leaves, in row order).
    labels: Vec<Vec<String>>,
    /// Per level, the value id of every leaf.
    of_leaf: Vec<Vec<u32>>,
    /// Per level, the number of hierarchy rows under every value (its share of the domain).
    rows_under: Vec<Vec<u32>>,
    leaf_ids: HashMap<String, u32>,
}

impl Hierarchy {
    /// Builds a hierarchy from its rows (leaf first, then one value per level).
    ///
    /// # Errors
    /// Ragged rows, repeated leaves, a value with two parents, no rows.
    pub fn from_rows(rows: &[Vec<String>]) -> Result<Hierarchy, HierarchyError> {
        let height = rows.first().map(Vec::len).ok_or(HierarchyError::Empty)?;
        if height == 0 {
            return Err(HierarchyError::Empty);
        }
        let mut labels: Vec<Vec<String>> = vec![Vec::new(); height];
        let mut ids: Vec<HashMap<&str, u32>> = vec![HashMap::new(); height];
        let mut of_leaf: Vec<Vec<u32>> = vec![Vec::with_capacity(rows.len()); height];
        let mut parent: Vec<HashMap<u32, u32>> = vec![HashMap::new(); height];
        for (r, row) in rows.iter().enumerate() {
            if row.len() != height {
                return Err(HierarchyError::Ragged {
                    row: r + 1,
                    found: row.len(),
                    expected: height,
                });
            }
            if let Some(&first) = ids[0].get(row[0].as_str()) {
                return Err(HierarchyError::DuplicateLeaf {
                    row: r + 1,
                    first: first as usize + 1,
                    value: row[0].clone(),
                });
            }
            let mut below: Option<u32> = None;
            for (level, value) in row.iter().enumerate() {
                let next = ids[level].len() as u32;
                let id = *ids[level].entry(value.as_str()).or_insert_with(|| {
                    labels[level].push(value.clone());
                    next
                });
                of_leaf[level].push(id);
                if let Some(child) = below {
                    let known = *parent[level - 1].entry(child).or_insert(id);
                    if known != id {
                        return Err(HierarchyError::NotATree {
                            row: r + 1,
                            level: level - 1,
                            value: labels[level - 1][child as usize].clone(),
                            parent: value.clone(),
                            other: labels[level][known as usize].clone(),
                        });
                    }
                }
                below = Some(id);
            }
        }
        let rows_under = of_leaf
            .iter()
            .zip(&labels)
            .map(|(ids, l)| {
                let mut n = vec![0u32; l.len()];
                for &i in ids {
                    n[i as usize] += 1;
                }
                n
            })
            .collect();
        let leaf_ids = labels[0]
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32))
            .collect();
        Ok(Hierarchy {
            labels,
            of_leaf,
            rows_under,
            leaf_ids,
        })
    }

    /// Reads ARX's hierarchy CSV: one row per value, `delimiter`-separated, no header.
    ///
    /// # Errors
    /// As [`Hierarchy::from_rows`], and unreadable CSV.
    pub fn parse_arx(text: &str, delimiter: u8) -> Result<Hierarchy, HierarchyError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for (r, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| HierarchyError::Read {
                path: format!("row {}", r + 1),
                reason: e.to_string(),
            })?;
            if rec.iter().all(str::is_empty) {
                continue;
            }
            rows.push(rec.iter().map(str::to_owned).collect());
        }
        Hierarchy::from_rows(&rows)
    }

    /// Reads an ARX hierarchy file (UTF-8, `;`-separated unless `delimiter` says otherwise).
    ///
    /// # Errors
    /// An unreadable file, and as [`Hierarchy::parse_arx`].
    pub fn read_arx(path: &Path, delimiter: u8) -> Result<Hierarchy, HierarchyError> {
        let text = std::fs::read_to_string(path).map_err(|e| HierarchyError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Hierarchy::parse_arx(&text, delimiter).map_err(|e| match e {
            HierarchyError::Read { path: row, reason } => HierarchyError::Read {
                path: format!("{}: {row}", path.display()),
                reason,
            },
            other => other,
        })
    }

    /// Number of levels, the leaves included.
    pub fn height(&self) -> usize {
        self.labels.len()
    }

    /// Number of leaves (hierarchy rows): the size of the domain.
    pub fn domain_size(&self) -> usize {
        self.of_leaf[0].len()
    }

    /// The leaf id of `value`.
    pub fn leaf(&self, value: &str) -> Option<u32> {
        self.leaf_ids.get(value).copied()
    }

    /// The id, at `level`, of what `leaf` generalizes to.
    pub fn generalize(&self, level: usize, leaf: u32) -> u32 {
        self.of_leaf[level][leaf as usize]
    }

    /// The value ids of every leaf at `level`.
    pub fn level(&self, level: usize) -> &[u32] {
        &self.of_leaf[level]
    }

    /// Distinct values at `level`.
    pub fn width(&self, level: usize) -> usize {
        self.labels[level].len()
    }

    /// The text of value `id` at `level`.
    pub fn label(&self, level: usize, id: u32) -> &str {
        &self.labels[level][id as usize]
    }

    /// Hierarchy rows under value `id` at `level` (1 for a leaf, the domain size for `*`).
    pub fn rows_under(&self, level: usize, id: u32) -> u32 {
        self.rows_under[level][id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGE: &str = "1;0-4;0-9;*\n2;0-4;0-9;*\n7;5-9;0-9;*\n12;10-14;10-19;*\n";

    #[test]
    fn reads_arx_rows_and_counts_shares() {
        let h = Hierarchy::parse_arx(AGE, b';').unwrap();
        assert_eq!((h.height(), h.domain_size()), (4, 4));
        let two = h.leaf("2").unwrap();
        assert_eq!(h.label(1, h.generalize(1, two)), "0-4");
        assert_eq!(h.rows_under(1, h.generalize(1, two)), 2);
        assert_eq!(h.rows_under(2, h.generalize(2, two)), 3);
        assert_eq!(h.rows_under(3, 0), 4);
        assert_eq!(h.width(2), 2);
    }

    #[test]
    fn rejects_what_is_not_a_tree() {
        let e = Hierarchy::parse_arx("1;a;*\n2;b;*\n1;a;*\n", b';').unwrap_err();
        assert!(matches!(
            e,
            HierarchyError::DuplicateLeaf {
                row: 3,
                first: 1,
                ..
            }
        ));
        let e = Hierarchy::parse_arx("1;a;x\n2;a;y\n", b';').unwrap_err();
        assert!(
            matches!(
                e,
                HierarchyError::NotATree {
                    row: 2,
                    level: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = Hierarchy::parse_arx("1;a;*\n2;*\n", b';').unwrap_err();
        assert!(matches!(e, HierarchyError::Ragged { row: 2, .. }));
        assert_eq!(
            Hierarchy::parse_arx("", b';').unwrap_err(),
            HierarchyError::Empty
        );
    }
}
