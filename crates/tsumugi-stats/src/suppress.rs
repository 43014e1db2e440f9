//! Cell suppression for published count tables (primary and secondary), after the NDB rules.
//!
//! The table is handled together with its margins as an extended `(R+1) × (C+1)` grid: entry
//! `(i, C)` is row `i`'s total, `(R, j)` column `j`'s total and `(R, C)` the grand total. Every
//! row and every column of that grid is an additive line (its cells sum to its total). Suppressed
//! entries are edges of a bipartite graph between the grid's row lines and column lines; see
//! `docs/guarantees/suppress.md` for why a bridgeless graph means no suppressed value can be
//! derived from the published ones.

use serde::{Serialize, Serializer};

use crate::CountTable;

/// The disclosure rules for a count table.
///
/// No `Default`: every published result records the rules it was produced under, so the caller
/// chooses them. [`SuppressionRules::ndb`] gives the NDB defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SuppressionRules {
    /// Smallest publishable nonzero count of persons. The NDB guideline
    /// (「レセプト情報・特定健診等情報の提供に関するガイドライン」, 公表物の確認基準: 最小集計単位の原則)
    /// uses 10.
    pub min_cell: u64,
    /// Whether a count of 0 may be published (the NDB guideline allows 0).
    pub allow_zero: bool,
}

impl SuppressionRules {
    /// The NDB publication rule: no cell of 1–9 persons; 0 may be shown.
    pub fn ndb() -> SuppressionRules {
        SuppressionRules {
            min_cell: 10,
            allow_zero: true,
        }
    }

    /// A one-line description for statutory records, e.g. `min_cell=10,allow_zero=true`.
    pub fn describe(&self) -> String {
        format!("min_cell={},allow_zero={}", self.min_cell, self.allow_zero)
    }

    fn is_sensitive(&self, n: u64) -> bool {
        n < self.min_cell && !(n == 0 && self.allow_zero)
    }
}

/// Why a value is not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The value itself is below the threshold.
    Primary,
    /// The value is publishable but hidden so that primary ones cannot be derived.
    Secondary,
}

/// One published entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cell {
    /// The count, published.
    Value(u64),
    /// Not published.
    Suppressed(Reason),
}

impl Cell {
    /// The published count, if any.
    pub fn value(self) -> Option<u64> {
        match self {
            Cell::Value(n) => Some(n),
            Cell::Suppressed(_) => None,
        }
    }

    /// Whether the entry is suppressed.
    pub fn is_suppressed(self) -> bool {
        matches!(self, Cell::Suppressed(_))
    }
}

/// A count table after disclosure control: every entry, margins included, is published or
/// suppressed. Its [`Serialize`] form and [`SuppressedTable::to_csv`] are what may leave the
/// processor; neither says *why* an entry is suppressed (a primary mark would tell the reader the
/// value is below `min_cell`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressedTable {
    row_labels: Vec<String>,
    col_labels: Vec<String>,
    cells: Vec<Vec<Cell>>,
    row_totals: Vec<Cell>,
    col_totals: Vec<Cell>,
    grand_total: Cell,
    rules: SuppressionRules,
}

/// The label of the totals row and column.
pub const TOTAL_LABEL: &str = "合計 Total";

/// The mark of a suppressed entry in CSV.
pub const SUPPRESSED_MARK: &str = "-";

impl SuppressedTable {
    /// The row labels.
    pub fn row_labels(&self) -> &[String] {
        &self.row_labels
    }

    /// The column labels.
    pub fn col_labels(&self) -> &[String] {
        &self.col_labels
    }

    /// The interior cells, row by row.
    pub fn cells(&self) -> &[Vec<Cell>] {
        &self.cells
    }

    /// The row totals.
    pub fn row_totals(&self) -> &[Cell] {
        &self.row_totals
    }

    /// The column totals.
    pub fn col_totals(&self) -> &[Cell] {
        &self.col_totals
    }

    /// The grand total.
    pub fn grand_total(&self) -> Cell {
        self.grand_total
    }

    /// The rules the table was produced under.
    pub fn rules(&self) -> SuppressionRules {
        self.rules
    }

    /// Number of entries (cells and margins) published or suppressed.
    pub fn n_entries(&self) -> u64 {
        ((self.row_labels.len() + 1) * (self.col_labels.len() + 1)) as u64
    }

    /// Number of suppressed entries (cells and margins) for `reason`.
    pub fn n_suppressed(&self, reason: Reason) -> u64 {
        self.entries()
            .filter(|c| *c == Cell::Suppressed(reason))
            .count() as u64
    }

    /// The table as CSV (RFC 4180 quoting, `\n` line ends): a header of the column labels and
    /// `合計 Total`, one line per row (label, cells, row total), and a last line `合計 Total` with the
    /// column totals and the grand total. Suppressed entries are written as `-`.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let mut line = |fields: Vec<String>| {
            let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&quoted.join(","));
            out.push('\n');
        };
        let mut header = vec![String::new()];
        header.extend(self.col_labels.iter().cloned());
        header.push(TOTAL_LABEL.to_owned());
        line(header);
        for (i, label) in self.row_labels.iter().enumerate() {
            let mut fields = vec![label.clone()];
            fields.extend(self.cells[i].iter().map(|c| render(*c)));
            fields.push(render(self.row_totals[i]));
            line(fields);
        }
        let mut last = vec![TOTAL_LABEL.to_owned()];
        last.extend(self.col_totals.iter().map(|c| render(*c)));
        last.push(render(self.grand_total));
        line(last);
        out
    }

    fn entries(&self) -> impl Iterator<Item = Cell> + '_ {
        self.cells
            .iter()
            .flatten()
            .chain(&self.row_totals)
            .chain(&self.col_totals)
            .chain(std::iter::once(&self.grand_total))
            .copied()
    }
}

/// Publication form: counts as numbers, suppressed entries as `null`, and the rules.
impl Serialize for SuppressedTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Published<'a> {
            row_labels: &'a [String],
            col_labels: &'a [String],
            cells: Vec<Vec<Option<u64>>>,
            row_totals: Vec<Option<u64>>,
            col_totals: Vec<Option<u64>>,
            grand_total: Option<u64>,
            rules: SuppressionRules,
        }
        let values = |cells: &[Cell]| cells.iter().map(|c| c.value()).collect::<Vec<_>>();
        Published {
            row_labels: &self.row_labels,
            col_labels: &self.col_labels,
            cells: self.cells.iter().map(|row| values(row)).collect(),
            row_totals: values(&self.row_totals),
            col_totals: values(&self.col_totals),
            grand_total: self.grand_total.value(),
            rules: self.rules,
        }
        .serialize(serializer)
    }
}

/// Applies primary and secondary cell suppression to `table` and its margins.
///
/// # Guarantee
/// For any table and rules, on the extended grid of cells, row totals, column totals and grand
/// total:
/// - (a) every published entry is `0` (only when `rules.allow_zero`) or `≥ rules.min_cell`;
/// - (b) *primary*: every entry `n` with `n < min_cell` — except `0` when zeros are allowed — is
///   suppressed with [`Reason::Primary`], margins included;
/// - (c) *secondary*: no row and no column of the grid (a table row with its total, a table column
///   with its total, the row of column totals with the grand total, the column of row totals with
///   the grand total) holds exactly one suppressed entry, so no suppressed entry equals a published
///   total minus published entries. More strongly, every suppressed entry lies on a cycle of
///   suppressed entries (the suppression graph is bridgeless), so the published values and the
///   additive structure admit another solution differing in that entry: no suppressed value is
///   determined by the table's linear equations. When every suppressed value is positive (always
///   the case with `allow_zero` unless a zero had to be used as a complement) that other solution
///   is also non-negative.
/// - (d) the result is a deterministic function of the table and the rules; a table in which
///   every entry is already publishable has nothing suppressed.
///
/// Complementary (secondary) entries are chosen one at a time: take the first suppressed entry
/// (in row-major order of the grid) that is a bridge of the suppression graph; suppress the
/// published entry that closes a cycle through it — or, when none can, one on its row or column
/// line — preferring nonzero counts, then closing entries, then the smallest count, ties broken by
/// grid position; repeat until no bridge remains. Proof and pseudocode: `docs/guarantees/suppress.md`. Not guaranteed: minimal loss of
/// information, and protection intervals (a suppressed value may still be bounded narrowly by
/// linear programming over the published values).
pub fn suppress(table: &CountTable, rules: &SuppressionRules) -> SuppressedTable {
    let n_rows = table.n_rows();
    let n_cols = table.n_cols();
    let grid = Grid::new(table);
    let mut state: Vec<Option<Reason>> = grid
        .values
        .iter()
        .map(|n| rules.is_sensitive(*n).then_some(Reason::Primary))
        .collect();
    // Each round suppresses one more entry, so at most one round per entry.
    while let Some(bridge) = grid.first_bridge(&state) {
        match grid.best_complement(&state, bridge) {
            Some(idx) => state[idx] = Some(Reason::Secondary),
            // Impossible: a bridge's row line has at least two entries, so when nothing closes a
            // cycle something extends it (see the proof). Rather than publish something
            // derivable, hide everything: a complete bipartite graph on at least 2 + 2 nodes has
            // no bridge, so the loop ends.
            None => {
                for s in state.iter_mut() {
                    s.get_or_insert(Reason::Secondary);
                }
            }
        }
    }
    let cell = |i: usize, j: usize| {
        let idx = grid.idx(i, j);
        match state[idx] {
            Some(reason) => Cell::Suppressed(reason),
            None => Cell::Value(grid.values[idx]),
        }
    };
    SuppressedTable {
        row_labels: table.row_labels().to_vec(),
        col_labels: table.col_labels().to_vec(),
        cells: (0..n_rows)
            .map(|i| (0..n_cols).map(|j| cell(i, j)).collect())
            .collect(),
        row_totals: (0..n_rows).map(|i| cell(i, n_cols)).collect(),
        col_totals: (0..n_cols).map(|j| cell(n_rows, j)).collect(),
        grand_total: cell(n_rows, n_cols),
        rules: *rules,
    }
}

/// The extended grid: `(R+1) × (C+1)` values in row-major order. Graph nodes are the grid's rows
/// `0..=R` and then its columns as `R+1+j`.
struct Grid {
    n_grid_rows: usize,
    n_grid_cols: usize,
    values: Vec<u64>,
}

impl Grid {
    fn new(table: &CountTable) -> Grid {
        let (n_rows, n_cols) = (table.n_rows(), table.n_cols());
        let mut values = Vec::with_capacity((n_rows + 1) * (n_cols + 1));
        for row in table.counts() {
            values.extend_from_slice(row);
            values.push(row.iter().sum());
        }
        values.extend((0..n_cols).map(|j| table.col_total(j).unwrap_or(0)));
        values.push(table.grand_total());
        Grid {
            n_grid_rows: n_rows + 1,
            n_grid_cols: n_cols + 1,
            values,
        }
    }

    fn idx(&self, i: usize, j: usize) -> usize {
        i * self.n_grid_cols + j
    }

    fn n_nodes(&self) -> usize {
        self.n_grid_rows + self.n_grid_cols
    }

    /// (row node, column node) of an entry.
    fn ends(&self, idx: usize) -> (usize, usize) {
        (
            idx / self.n_grid_cols,
            self.n_grid_rows + idx % self.n_grid_cols,
        )
    }

    /// Adjacency lists `(neighbour, entry index)` of the suppression graph.
    fn adjacency(&self, state: &[Option<Reason>]) -> Vec<Vec<(usize, usize)>> {
        let mut adj = vec![Vec::new(); self.n_nodes()];
        for (idx, s) in state.iter().enumerate() {
            if s.is_some() {
                let (r, c) = self.ends(idx);
                adj[r].push((c, idx));
                adj[c].push((r, idx));
            }
        }
        adj
    }

    /// The suppressed entry of smallest index that is a bridge (Tarjan, iterative).
    fn first_bridge(&self, state: &[Option<Reason>]) -> Option<usize> {
        let adj = self.adjacency(state);
        let n = self.n_nodes();
        let unseen = usize::MAX;
        let mut disc = vec![unseen; n];
        let mut low = vec![0usize; n];
        let mut timer = 0usize;
        let mut best: Option<usize> = None;
        for root in 0..n {
            if disc[root] != unseen || adj[root].is_empty() {
                continue;
            }
            disc[root] = timer;
            low[root] = timer;
            timer += 1;
            // (node, entry it was reached by, next adjacency position)
            let mut stack: Vec<(usize, usize, usize)> = vec![(root, usize::MAX, 0)];
            while let Some(top) = stack.last_mut() {
                let (u, via, pos) = *top;
                if let Some(&(v, edge)) = adj[u].get(pos) {
                    top.2 += 1;
                    if edge == via {
                        continue;
                    }
                    if disc[v] == unseen {
                        disc[v] = timer;
                        low[v] = timer;
                        timer += 1;
                        stack.push((v, edge, 0));
                    } else {
                        low[u] = low[u].min(disc[v]);
                    }
                } else {
                    stack.pop();
                    if let Some(&(parent, _, _)) = stack.last() {
                        low[parent] = low[parent].min(low[u]);
                        if low[u] > disc[parent] {
                            best = Some(best.map_or(via, |b| b.min(via)));
                        }
                    }
                }
            }
        }
        best
    }

    /// Nodes reachable from `start` over suppressed entries other than `skip`.
    fn side(&self, adj: &[Vec<(usize, usize)>], start: usize, skip: usize) -> Vec<bool> {
        let mut seen = vec![false; self.n_nodes()];
        seen[start] = true;
        let mut todo = vec![start];
        while let Some(u) = todo.pop() {
            for &(v, edge) in &adj[u] {
                if edge != skip && !seen[v] {
                    seen[v] = true;
                    todo.push(v);
                }
            }
        }
        seen
    }

    /// The published entry to suppress next for `bridge`. Preferred: one that closes a cycle
    /// through the bridge (it joins a row line on one side of the bridge to a column line on the
    /// other). When none exists, an end of the bridge has no other suppressed entry, and the
    /// candidates are the published entries on that end's line, which extend the bridge's
    /// component; a later round then closes the cycle. Nonzero values before zeros, then closing before extending, then
    /// smallest value, then grid position.
    fn best_complement(&self, state: &[Option<Reason>], bridge: usize) -> Option<usize> {
        let adj = self.adjacency(state);
        let (r, c) = self.ends(bridge);
        let side_a = self.side(&adj, r, bridge);
        let side_b = self.side(&adj, c, bridge);
        // An end with no other suppressed entry must grow along its own line first.
        let r_alone = !side_a[self.n_grid_rows..].iter().any(|s| *s);
        let c_alone = !side_b[..self.n_grid_rows].iter().any(|s| *s);
        (0..self.values.len())
            .filter(|&idx| state[idx].is_none())
            .filter_map(|idx| {
                let (ri, ci) = self.ends(idx);
                let closes = (side_a[ri] && side_b[ci]) || (side_b[ri] && side_a[ci]);
                let extends = (r_alone && ri == r) || (c_alone && ci == c);
                (closes || extends).then_some((
                    self.values[idx] == 0,
                    !closes,
                    self.values[idx],
                    idx,
                ))
            })
            .min()
            .map(|(_, _, _, idx)| idx)
    }
}

fn render(cell: Cell) -> String {
    match cell {
        Cell::Value(n) => n.to_string(),
        Cell::Suppressed(_) => SUPPRESSED_MARK.to_owned(),
    }
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}
