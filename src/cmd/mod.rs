//! One module per subcommand. Errors leave here as `anyhow` with context; `exit_code` maps
//! them to the process exit status.

pub mod bench;
pub mod check;
pub mod list;
pub mod outcomes;
pub mod plot;
pub mod run;
pub mod summary;
pub mod table;
pub mod validate;

use crate::cli::{Cli, Command};

/// An input the user must fix (a broken spec, an unknown data set name): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    crate::runtime::set_cpu_threads(cli.threads).map_err(BadInput)?;
    match &cli.command {
        Command::Run(args) => run::run(&cli, args),
        Command::Validate { specs } => validate::validate(specs),
        Command::List { experiments } => list::list(&cli, experiments),
        Command::Table(args) => table::table(&cli, args),
        Command::Bench(args) => bench::bench(&cli, args),
        Command::Check(args) => check::check(&cli, args),
        Command::Plot(args) => plot::plot(&cli, args),
        Command::Summary(args) => summary::summary(&cli, args),
    }
}

/// 2 for bad input (spec, data, arguments), 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    let bad_input = err.chain().any(|e| {
        e.downcast_ref::<BadInput>().is_some()
            || matches!(
                e.downcast_ref::<crate::Error>(),
                Some(
                    crate::Error::Spec { .. }
                        | crate::Error::DataFormat { .. }
                        | crate::Error::DataInvalid { .. }
                        | crate::Error::DataMissing { .. }
                )
            )
    });
    if bad_input {
        2
    } else {
        1
    }
}
