//! Integration tests of `tsumugi-synth`: one shared run checked from many sides, plus
//! determinism across runs.

mod checks;
