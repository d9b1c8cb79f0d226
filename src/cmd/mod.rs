//! One module per subcommand. Errors leave here as `anyhow` with context; `exit_code` maps
//! them to the process exit status.

pub mod bench;
pub mod check;
pub mod compare;
pub mod cost;
pub mod export;
pub mod list;
pub mod plan;
pub mod plot;
pub mod report;
pub mod run;
pub mod slurm;
pub mod summary;
pub mod table;
pub mod validate;
pub mod verify;
pub mod workers;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    crate::runtime::set_cpu_threads(cli.threads).map_err(crate::Error::Usage)?;
    crate::device::cuda_graph::set_enabled(cli.cuda_graphs.is_on());
    match &cli.command {
        Command::Run(args) => run::run(&cli, args),
        Command::Plan(args) => plan::plan(&cli, args),
        Command::Cost(args) => cost::cost(&cli, args),
        Command::Validate { specs, set } => validate::validate(specs, set),
        Command::List { experiments } => list::list(&cli, experiments),
        Command::Table(args) => table::table(&cli, args),
        Command::Bench(args) => bench::bench(&cli, args),
        Command::Check(args) => check::check(&cli, args),
        Command::Compare(args) => compare::compare(&cli, args),
        Command::Export(args) => export::export(&cli, args),
        Command::Plot(args) => plot::plot(&cli, args),
        Command::Slurm(args) => slurm::slurm(&cli, args),
        Command::Summary(args) => summary::summary(&cli, args),
        Command::Report(args) => report::report(&cli, args),
        Command::Verify(args) => verify::verify(&cli, args),
    }
}

/// The exit status of a failed command: the first library error in the chain decides
/// (`Error::exit_code`); anything else is 1.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain().find_map(|e| e.downcast_ref::<crate::Error>()).map_or(1, crate::Error::exit_code)
}
