//! The `tsumugi` command line: parse, call a `tsumugi-app` use case, print.
//!
//! `main` only maps errors to exit codes: 0 success, 1 failure, 2 usage (clap), 3 audit chain
//! broken.

mod args;
mod bench;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::error(&anyhow::Error::from(e));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(args::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e);
            ExitCode::from(1)
        }
    }
}
