//! Entry point: parse the command line, set up logging, run the subcommand, and turn an
//! error into one message and an exit code (2 for a bad spec or input, 1 otherwise).

use clap::Parser;

fn main() {
    mcdrop::runtime::tune_allocator();
    mcdrop::runtime::quiet_broken_pipe();
    let cli = mcdrop::cli::Cli::parse();
    mcdrop::logging::init(cli.verbose);
    if let Err(err) = mcdrop::cmd::dispatch(cli) {
        tracing::debug!("{err:?}");
        eprintln!("error: {err:#}");
        std::process::exit(mcdrop::cmd::exit_code(&err));
    }
}
