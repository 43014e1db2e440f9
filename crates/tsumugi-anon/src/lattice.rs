//! The generalization lattice: one node per choice of level for every quasi-identifier.
//!
//! Nodes are numbered densely (mixed radix over the heights, first quasi-identifier fastest),
//! so the search keeps per-node flags in plain vectors. A node's successors raise one level by
//! one; its predecessors lower one.

/// The lattice of full-domain generalizations over quasi-identifiers of given heights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lattice {
    heights: Vec<u8>,
    strides: Vec<usize>,
    size: usize,
}

impl Lattice {
    /// The lattice over hierarchies of these heights (levels, the leaves included). `None`
    /// when it has more than `usize::MAX` nodes or a height is 0.
    pub fn new(heights: &[u8]) -> Option<Lattice> {
        let mut strides = Vec::with_capacity(heights.len());
        let mut size = 1usize;
        for &h in heights {
            if h == 0 {
                return None;
            }
            strides.push(size);
            size = size.checked_mul(usize::from(h))?;
        }
        Some(Lattice {
            heights: heights.to_vec(),
            strides,
            size,
        })
    }

    /// Number of nodes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Levels of every quasi-identifier's hierarchy.
    pub fn heights(&self) -> &[u8] {
        &self.heights
    }

    /// The number of node `levels`.
    pub fn index(&self, levels: &[u8]) -> usize {
        levels
            .iter()
            .zip(&self.strides)
            .map(|(&l, &s)| usize::from(l) * s)
            .sum()
    }

    /// The levels of node `index`.
    pub fn levels(&self, index: usize) -> Vec<u8> {
        self.heights
            .iter()
            .zip(&self.strides)
            .map(|(&h, &s)| ((index / s) % usize::from(h)) as u8)
            .collect()
    }

    /// The sum of a node's levels (its height in the lattice).
    pub fn level_sum(levels: &[u8]) -> u32 {
        levels.iter().map(|&l| u32::from(l)).sum()
    }

    /// The direct successors of node `index` (one level raised by one).
    pub fn successors(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.heights
            .iter()
            .zip(&self.strides)
            .filter(move |&(&h, &s)| (index / s) % usize::from(h) + 1 < usize::from(h))
            .map(move |(_, &s)| index + s)
    }

    /// The direct predecessors of node `index` (one level lowered by one).
    pub fn predecessors(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.heights
            .iter()
            .zip(&self.strides)
            .filter(move |&(&h, &s)| !(index / s).is_multiple_of(usize::from(h)))
            .map(move |(_, &s)| index - s)
    }

    /// Whether every level of `a` is at most that of `b` (`b` generalizes `a`).
    pub fn below(a: &[u8], b: &[u8]) -> bool {
        a.iter().zip(b).all(|(x, y)| x <= y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_nodes_densely_and_walks_up() {
        let l = Lattice::new(&[2, 3, 4]).unwrap();
        assert_eq!(l.size(), 24);
        for i in 0..l.size() {
            assert_eq!(l.index(&l.levels(i)), i);
        }
        let bottom: Vec<usize> = l.successors(0).collect();
        assert_eq!(bottom, vec![1, 2, 6]);
        assert_eq!(l.successors(l.size() - 1).count(), 0);
        let mut down: Vec<usize> = l.predecessors(l.size() - 1).collect();
        down.sort_unstable();
        assert_eq!(down, vec![17, 21, 22]);
        assert_eq!(l.predecessors(0).count(), 0);
        assert!(Lattice::below(&[0, 1, 2], &[1, 1, 3]));
        assert!(!Lattice::below(&[0, 2, 2], &[1, 1, 3]));
        assert!(Lattice::new(&[2, 0]).is_none());
    }
}
