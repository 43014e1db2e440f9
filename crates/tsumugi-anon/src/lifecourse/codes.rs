//! Peculiar descriptions (特異な記述) in events: codes held by fewer than k persons go up their
//! code system's hierarchy or are removed, and extreme values are top- or bottom-coded.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use tsumugi_model::{Code, CodeSystem};

use crate::builders::Builder;

/// A code's labels from the code as recorded up its system's hierarchy, each with the name of
/// its level. Systems without a hierarchy have only the code.
pub(crate) fn ladder(code: &Code) -> Vec<(&'static str, String)> {
    let mut out = vec![("code", code.value.clone())];
    let (builder, names): (Builder, &[&'static str]) = match code.system {
        CodeSystem::Icd10 => (Builder::Icd10, &["3char", "block", "chapter"]),
        CodeSystem::Yj => (Builder::Yj, &["ingredient", "class4", "class3", "class1"]),
        CodeSystem::Jlac10 | CodeSystem::KenshinItem => {
            (Builder::Jlac10, &["analyte", "group2", "group1"])
        }
        _ => return out,
    };
    // A code the builder cannot place (malformed) has only itself: it is kept only when held
    // by k persons as recorded.
    if let Ok(levels) = builder.levels(&code.value) {
        out.extend(names.iter().copied().zip(levels));
    }
    out
}

/// A node of a code system's hierarchy: `(system, level, label)`.
type Node = (CodeSystem, u8, String);

/// Who holds which code, and every hierarchy node above the codes.
#[derive(Debug, Default)]
pub(crate) struct Holders {
    /// Persons holding a code under each node (the node's subtree).
    persons: HashMap<Node, HashSet<i64>>,
    /// Children of each node (a level-0 node is a code and has none).
    children: HashMap<Node, BTreeSet<String>>,
    /// Each code's ladder, computed once.
    ladders: HashMap<Code, Vec<(&'static str, String)>>,
}

impl Holders {
    /// Counts `person` as a holder of `code` at every level of its ladder.
    pub(crate) fn add(&mut self, code: &Code, person: i64) {
        if !self.ladders.contains_key(code) {
            let ladder = ladder(code);
            for (level, pair) in ladder.windows(2).enumerate() {
                let parent = (code.system.clone(), level as u8 + 1, pair[1].1.clone());
                self.children
                    .entry(parent)
                    .or_default()
                    .insert(pair[0].1.clone());
            }
            self.ladders.insert(code.clone(), ladder);
        }
        for (level, (_, label)) in self.ladders[code].iter().enumerate() {
            self.persons
                .entry((code.system.clone(), level as u8, label.clone()))
                .or_default()
                .insert(person);
        }
    }

    fn holders(&self, node: &Node) -> usize {
        self.persons.get(node).map_or(0, HashSet::len)
    }

    /// Releases every code under `node` at `node`'s level.
    fn release_under(&self, node: &Node, at: &Node, out: &mut HashMap<Node, Node>) {
        match self.children.get(node) {
            None => {
                out.insert(node.clone(), at.clone());
            }
            Some(kids) => {
                for kid in kids {
                    let child = (node.0.clone(), node.1 - 1, kid.clone());
                    self.release_under(&child, at, out);
                }
            }
        }
    }

    /// Refines `node` (held by at least k persons) top-down: each child held by at least k
    /// persons is refined in turn; the codes under the other children are released at
    /// `node`, which those children's holders together must reach k for — else nothing under
    /// `node` is refined. So every released label is held by at least k persons *among the
    /// rows released with that label*.
    fn refine(&self, node: &Node, k: usize, out: &mut HashMap<Node, Node>) {
        let Some(kids) = self.children.get(node) else {
            out.insert(node.clone(), node.clone());
            return;
        };
        let child = |kid: &String| (node.0.clone(), node.1 - 1, kid.clone());
        let (big, small): (Vec<Node>, Vec<Node>) =
            kids.iter().map(child).partition(|c| self.holders(c) >= k);
        let mut remainder: HashSet<i64> = HashSet::new();
        for c in &small {
            if let Some(p) = self.persons.get(c) {
                remainder.extend(p);
            }
        }
        if big.is_empty() || (!remainder.is_empty() && remainder.len() < k) {
            self.release_under(node, node, out);
            return;
        }
        for c in &big {
            self.refine(c, k, out);
        }
        for c in &small {
            self.release_under(c, node, out);
        }
    }

    /// The release decision for every code seen: its label at the finest level that the
    /// top-down refinement allows, or removal when even its top node is held by fewer than
    /// `k` persons.
    pub(crate) fn decide(self, k: u32) -> CodeDecisions {
        let k = k.max(1) as usize;
        // Roots: the top of each code's ladder.
        let roots: BTreeSet<Node> = self
            .ladders
            .iter()
            .map(|(code, ladder)| {
                let top = ladder.len() - 1;
                (code.system.clone(), top as u8, ladder[top].1.clone())
            })
            .collect();
        let mut released: HashMap<Node, Node> = HashMap::new();
        for root in &roots {
            if self.holders(root) >= k {
                self.refine(root, k, &mut released);
            }
        }
        let mut decisions = HashMap::with_capacity(self.ladders.len());
        let mut stats: BTreeMap<String, CodeStats> = BTreeMap::new();
        for (code, ladder) in self.ladders {
            let s = stats.entry(code.system.as_str().to_owned()).or_default();
            s.codes += 1;
            let leaf = (code.system.clone(), 0, code.value.clone());
            let decision = released.get(&leaf).map(|(_, level, label)| {
                if *level == 0 {
                    s.kept += 1;
                } else {
                    s.generalized += 1;
                }
                Released {
                    level: *level,
                    level_name: ladder[usize::from(*level)].0,
                    label: label.clone(),
                }
            });
            if decision.is_none() {
                s.removed += 1;
            }
            decisions.insert(code, decision);
        }
        CodeDecisions { decisions, stats }
    }
}

/// How one code is released.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Released {
    /// 0 for the code as recorded.
    pub level: u8,
    /// The level's name (`code`, `3char`, `block`, …).
    pub level_name: &'static str,
    /// The released label.
    pub label: String,
}

/// Codes of one system: how many were kept, generalized or removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodeStats {
    /// Distinct codes as recorded.
    pub codes: u64,
    /// Released as recorded.
    pub kept: u64,
    /// Released at a coarser level of their hierarchy.
    pub generalized: u64,
    /// Removed with their events (held by fewer than k persons at every level).
    pub removed: u64,
}

/// The decisions of [`Holders::decide`].
#[derive(Debug)]
pub(crate) struct CodeDecisions {
    decisions: HashMap<Code, Option<Released>>,
    /// Per code system.
    pub stats: BTreeMap<String, CodeStats>,
}

impl CodeDecisions {
    /// Every code released as recorded (pseudonymized releases keep rare codes).
    pub(crate) fn keep_all(holders: Holders) -> CodeDecisions {
        let mut stats: BTreeMap<String, CodeStats> = BTreeMap::new();
        let decisions = holders
            .ladders
            .into_keys()
            .map(|code| {
                let s = stats.entry(code.system.as_str().to_owned()).or_default();
                s.codes += 1;
                s.kept += 1;
                let r = Released {
                    level: 0,
                    level_name: "code",
                    label: code.value.clone(),
                };
                (code, Some(r))
            })
            .collect();
        CodeDecisions { decisions, stats }
    }

    /// How `code` is released; `None` when it is removed (or was never seen).
    pub(crate) fn get(&self, code: &Code) -> Option<&Released> {
        self.decisions.get(code).and_then(Option::as_ref)
    }
}

/// Per released code `(system, label)`, its bottom and top cut, or `None` when its values are
/// withheld.
pub(crate) type Cuts = HashMap<(CodeSystem, String), Option<(f64, f64)>>;

/// Per released code, each person's smallest and largest value.
#[derive(Debug, Default)]
pub(crate) struct ValueRanges {
    ranges: HashMap<(CodeSystem, String), HashMap<i64, (f64, f64)>>,
}

impl ValueRanges {
    /// Records `value` of `person` under the released code.
    pub(crate) fn add(&mut self, system: &CodeSystem, label: &str, person: i64, value: f64) {
        if !value.is_finite() {
            return;
        }
        let per_person = self
            .ranges
            .entry((system.clone(), label.to_owned()))
            .or_default();
        let e = per_person.entry(person).or_insert((value, value));
        e.0 = e.0.min(value);
        e.1 = e.1.max(value);
    }

    /// The cuts per released code: values above the `k`-th largest person maximum are set to
    /// it, values below the `k`-th smallest person minimum likewise, so every released extreme
    /// is shared by at least `k` persons. A code whose values come from fewer than `k` persons
    /// has no cut: its values are withheld.
    pub(crate) fn cuts(self, k: u32) -> Cuts {
        let k = k.max(1) as usize;
        self.ranges
            .into_iter()
            .map(|(code, per_person)| {
                if per_person.len() < k {
                    return (code, None);
                }
                let mut mins: Vec<f64> = per_person.values().map(|r| r.0).collect();
                let mut maxs: Vec<f64> = per_person.values().map(|r| r.1).collect();
                mins.sort_by(f64::total_cmp);
                maxs.sort_by(|a, b| b.total_cmp(a));
                (code, Some((mins[k - 1], maxs[k - 1])))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icd(v: &str) -> Code {
        Code::new(CodeSystem::Icd10, v)
    }

    #[test]
    fn rare_codes_go_up_their_hierarchy_or_are_removed() {
        let mut h = Holders::default();
        for p in 0..5 {
            h.add(&icd("E11.9"), p);
        }
        // E11.2 held by two persons: its 3-character E11 is held by 7.
        h.add(&icd("E11.2"), 10);
        h.add(&icd("E11.2"), 11);
        // G12.2 alone everywhere except nothing: removed at k = 5.
        h.add(&icd("G12.2"), 20);
        // The same person twice counts once.
        h.add(&icd("E11.2"), 10);
        let d = h.decide(5);
        // E11.2 alone would be 2 persons under E11: both E11 codes go to E11 (7 persons).
        let e112 = d.get(&icd("E11.2")).unwrap();
        assert_eq!((e112.label.as_str(), e112.level_name), ("E11", "3char"));
        assert_eq!(d.get(&icd("E11.9")).unwrap().label, "E11");
        assert!(
            d.get(&icd("G12.2")).is_none(),
            "chapter 6 is held by one person"
        );
        let s = &d.stats["icd10"];
        assert_eq!((s.codes, s.kept, s.generalized, s.removed), (3, 0, 2, 1));
    }

    #[test]
    fn a_released_label_is_held_by_k_persons_among_its_own_rows() {
        // E11.2 by 4 persons, E11.9 by 1: at k = 4, releasing E11.2 as is would leave E11.9
        // alone under the label E11; both go to E11 (5 persons).
        let mut h = Holders::default();
        for p in 0..4 {
            h.add(&icd("E11.2"), p);
        }
        h.add(&icd("E11.9"), 9);
        let d = h.decide(4);
        assert_eq!(d.get(&icd("E11.2")).unwrap().label, "E11");
        assert_eq!(d.get(&icd("E11.9")).unwrap().label, "E11");
        // With a second rare code the remainder reaches k, and E11.2 keeps its detail.
        let mut h = Holders::default();
        for p in 0..4 {
            h.add(&icd("E11.2"), p);
        }
        for p in 10..14 {
            h.add(&icd(["E11.9", "E11.8"][(p % 2) as usize]), p);
        }
        let d = h.decide(4);
        assert_eq!(d.get(&icd("E11.2")).unwrap().label, "E11.2");
        assert_eq!(d.get(&icd("E11.8")).unwrap().label, "E11");
    }

    #[test]
    fn extremes_are_shared_by_k_persons() {
        let mut v = ValueRanges::default();
        let sys = CodeSystem::Jlac10;
        for (p, x) in [(1, 5.0), (2, 6.0), (3, 7.0), (4, 8.0), (5, 400.0)] {
            v.add(&sys, "3D046", p, x);
        }
        v.add(&sys, "3D046", 1, 4.0);
        v.add(&sys, "rare", 1, 1.0);
        let cuts = v.cuts(2);
        assert_eq!(cuts[&(sys.clone(), "3D046".into())], Some((6.0, 8.0)));
        assert_eq!(cuts[&(sys, "rare".into())], None);
    }
}
