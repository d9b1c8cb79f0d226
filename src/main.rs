//! Entry point: parse the command line, set up logging, run the subcommand, and turn an
//! error into one message and an exit code (2 for a bad spec or input, 1 otherwise).

use clap::Parser;

fn main() {
    mcdrop::runtime::tune_allocator();
    let cli = mcdrop::cli::Cli::parse();
    let level = match cli.verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCDROP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mcdrop={level}")));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
    if let Err(err) = mcdrop::cmd::dispatch(cli) {
        eprintln!("error: {err:#}");
        std::process::exit(mcdrop::cmd::exit_code(&err));
    }
}
