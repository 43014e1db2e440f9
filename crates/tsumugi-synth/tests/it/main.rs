//! Integration tests of `tsumugi-synth`: one shared run checked from many sides, plus
//! determinism across runs; and the identity-only link records.

mod checks;
mod link;
