//! Entry point: parse the command line, set up logging, run the subcommand, and turn an
//! error into one message and an exit code (2 for a bad spec or input, 1 otherwise).

use clap::Parser;

fn main() {
    mcdrop::runtime::tune_allocator();
    mcdrop::runtime::quiet_broken_pipe();
    let cli = mcdrop::cli::Cli::parse();
    // Before libtorch computes anything: may re-execute this binary with the pinned environment.
    if let Err(err) = mcdrop::numerics::enter(cli.numerics) {
        eprintln!("error: could not re-execute mcdrop with pinned CPU numerics ({err}); rerun with --numerics native");
        std::process::exit(1);
    }
    mcdrop::logging::init(cli.verbose);
    if let Err(err) = mcdrop::cmd::dispatch(cli) {
        tracing::debug!("{err:?}");
        eprintln!("error: {err:#}");
        std::process::exit(mcdrop::cmd::exit_code(&err));
    }
}
