//! The command line: one subcommand per job, doc comments are the help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::device::DeviceChoice;
use crate::report::TableFormat;

/// Reproduces Gal & Ghahramani (2016), "Dropout as a Bayesian Approximation", from YAML specs.
#[derive(Debug, Parser)]
#[command(name = "mcdrop", version, about)]
pub struct Cli {
    /// The data directory, and then the only place data sets are looked for (without it:
    /// $MCDROP_DATA alone when set, else ./data then ../shared/data).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Root of the results tree.
    #[arg(long, global = true, value_name = "DIR", default_value = "results")]
    pub results_dir: PathBuf,

    /// CPU threads libtorch may use (default: $MCDROP_THREADS, else one per core). On a shared
    /// machine give each concurrent run its share: several runs each using every core slow
    /// one another far more than they gain.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    pub threads: Option<i32>,

    /// On a GPU, record each epoch of an MC dropout training as a CUDA graph and replay it (one
    /// launch instead of about 30 a step); `off` launches every kernel eagerly.
    #[arg(long, global = true, value_enum, default_value = "on")]
    pub cuda_graphs: Switch,

    /// `pinned` holds libtorch, oneDNN, MKL and glibc to their AVX2 code paths, so any x86-64
    /// machine with AVX2 computes the same bits; `native` lets each pick this CPU's widest
    /// kernels (faster on AVX-512, reproducible only on the same kind of CPU).
    #[arg(long, global = true, value_enum, default_value = "pinned")]
    pub numerics: crate::numerics::Numerics,

    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment spec; units already recorded are skipped (resume).
    Run(RunArgs),
    /// A fresh rerun's UCI tables against the committed ones, set by set (identical,
    /// consistent within 2 SE, inconsistent); exit 1 when a set is inconsistent or missing.
    Compare(CompareArgs),
    /// A Slurm job array (task i runs `--shard i/N`) and a follow-up job that writes the
    /// tables, figures and summary; `--submit` hands both to sbatch.
    Slurm(SlurmArgs),
    /// What running specs would do: units recorded, units to train, the estimated time.
    Plan(PlanArgs),
    /// A UCI spec's training cost per split (member-steps, recorded wall time) and what its
    /// records learned (e.g. concrete dropout's rates), beside another spec's cost.
    Cost(CostArgs),
    /// Check specs without running them; exit code 2 when one is broken.
    Validate {
        /// Spec files.
        #[arg(required = true)]
        specs: Vec<PathBuf>,
        /// Overrides applied to each spec, as `run --set` takes them.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// List the experiments under experiments/ and the data sets found, with where.
    List {
        /// Folder of spec files.
        #[arg(long, default_value = "experiments")]
        experiments: PathBuf,
    },
    /// Print the table of an experiment's records (mean +- standard error per data set)
    /// beside the published numbers.
    Table(TableArgs),
    /// Rerun the small specs with three fresh seeds and test each metric's median against its
    /// baseline (at most 5 % false alarms over the whole suite); exit 1 when one moved beyond
    /// seed noise.
    Check(CheckArgs),
    /// Every record of experiments as one tidy row (experiment, model, set, split,
    /// hyper-parameters, metrics, commit), for polars or pandas.
    Export(ExportArgs),
    /// Redraw the figures of experiments from their records (PNG and SVG), without training.
    Plot(PlotArgs),
    /// What ran, wall time per experiment, where the outputs are, and a verdict per published
    /// number (within 2 standard errors, better, worse).
    Summary(SummaryArgs),
    /// Write one self-contained HTML page (results/report/index.html): every table beside the
    /// published numbers with each verdict marked, every figure, provenance, verification
    /// and what is left to train.
    Report(ReportArgs),
    /// Rerun committed units from scratch and judge each metric against its record
    /// (identical, consistent, inconsistent); exit 1 when one is inconsistent.
    Verify(VerifyArgs),
    /// Time the batched trainer against one-network-at-a-time training (and the PyTorch peer).
    Bench(BenchArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The spec file.
    pub spec: PathBuf,
    /// Change a setting of the spec without editing it: PATH=VALUE, e.g. training.epochs=10,
    /// model.mc_dropout.hidden_units=100, name=my-variant (repeatable; checked like the file,
    /// and saved with the results and in the spec's identity).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Overrides the spec's device.
    #[arg(long)]
    pub device: Option<DeviceChoice>,
    /// Only these data sets (folder or table name, e.g. boston); repeatable.
    #[arg(long, value_name = "SET")]
    pub only: Vec<String>,
    /// Only splits in this half-open range, e.g. 0..5.
    #[arg(long, value_name = "A..B")]
    pub splits: Option<String>,
    /// Redo units that already have records.
    #[arg(long)]
    pub force: bool,
    /// N local worker processes with a share of the CPU threads each, into one results
    /// directory, each taking the next program (largest first) when it comes free; on a GPU
    /// machine they share the device.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Only shard I of N (e.g. 0/4): a deterministic partition of the spec's programs balanced
    /// by estimated cost; N processes given 0/N .. N-1/N run the whole spec between them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// A worker of `--jobs`: take programs from the claim queue in DIR.
    #[arg(long, value_name = "DIR", hide = true, conflicts_with_all = ["shard", "jobs"])]
    pub queue: Option<std::path::PathBuf>,
    /// A worker's label in the manifest (I/N), for `mcdrop summary`.
    #[arg(long, value_name = "I/N", hide = true, requires = "queue")]
    pub worker: Option<String>,
    /// How often a long training (an MC dropout program, a CO2 network) writes a checkpoint
    /// to resume from if the run is killed, e.g. 5m, 30s; 0s: after every epoch.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub checkpoint_every: std::time::Duration,
    /// Largest activation tensor (elements) one MC-sampling chunk may create; bounds memory.
    #[arg(long, default_value_t = crate::protocol::execute::DEFAULT_MC_BUDGET)]
    pub mc_budget: usize,
    /// Overrides the spec's `run: splits_per_program` (UCI specs): on a GPU one program per
    /// set costs about what a smaller one does; on a CPU smaller ones save records sooner.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub splits_per_program: Option<u64>,
    /// UCI: train every grid point's retrain network beside the grid search (on a thread of its
    /// own) and keep the one the validation picks. The critical path becomes the longer phase
    /// instead of both; the extra training is the grid's size. auto: on for CUDA, off for CPU.
    #[arg(long, value_enum, default_value_t = Speculation::Auto)]
    pub speculative_retrain: Speculation,
}

/// A lever that is on or off (`--cuda-graphs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl Switch {
    pub fn is_on(self) -> bool {
        self == Switch::On
    }

    /// The word the command line takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Switch::On => "on",
            Switch::Off => "off",
        }
    }
}

/// Whether a UCI run retrains speculatively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Speculation {
    /// On when the run's device is a GPU (launch-bound: idle time to fill), off on the CPU
    /// (where it adds the grid's size in arithmetic).
    Auto,
    On,
    Off,
}

impl Speculation {
    pub fn enabled(self, device: tch::Device) -> bool {
        match self {
            Speculation::Auto => device != tch::Device::Cpu,
            Speculation::On => true,
            Speculation::Off => false,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// Experiment name(s) (folders under the results directory). One: its detailed table.
    /// Several: the paper's Table 1 layout, one column per experiment beside the published
    /// VI, PBP and Dropout columns, best of each row in bold.
    #[arg(required = true)]
    pub experiments: Vec<String>,
    /// With several experiments: only this metric (default: RMSE then test LL).
    #[arg(long, value_enum)]
    pub metric: Option<crate::report::Metric>,
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,
    /// Also write the table to this file (atomically).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// Experiment name(s) (folders under the results directory). Each gets its own figures
    /// in results/<experiment>/figures/; UCI experiments and several MNIST ones are also
    /// drawn together into --output.
    #[arg(required = true)]
    pub experiments: Vec<String>,
    /// Folder of the figures that combine experiments (default: <results-dir>/figures).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Experiment name(s) (folders under the results directory) [default: every folder there
    /// with a saved spec].
    pub experiments: Vec<String>,
    /// The page to write [default: <results-dir>/report/index.html].
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where the repository's specs are: each experiment's spec of the same name (here or in
    /// quick/) says what is left to train, and specs without results are listed as not run.
    #[arg(long, value_name = "DIR", default_value = "experiments")]
    pub specs: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// Experiment name(s) (folders under the results directory).
    #[arg(required = true)]
    pub experiments: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to benchmark.
    #[arg(value_enum)]
    pub target: BenchTarget,
    /// UCI set (folder or table name).
    #[arg(long, default_value = "boston")]
    pub set: String,
    /// Spec whose protocol (grid, widths, optimiser, seed) is timed.
    #[arg(long, default_value = "experiments/uci-dropout.yaml")]
    pub spec: PathBuf,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Epochs per timed run (the grid phase is timed, as the peer does).
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    /// Splits in the batched program (x grid points or restarts = members); default 20 for
    /// `uci`, the spec's `run.splits_per_program` for `sparse-gp` and `vi`.
    #[arg(long)]
    pub splits: Option<usize>,
    /// `rl`: world ticks timed per program (burn-in shortened to a quarter of them).
    #[arg(long, default_value_t = 4000)]
    pub ticks: usize,
    /// Optimiser steps timed per method (`sparse-gp`).
    #[arg(long, default_value_t = 2)]
    pub iterations: usize,
    /// `gp`: other GP specs whose fit of the same program is timed beside `--spec`'s
    /// (repeatable).
    #[arg(long, value_name = "SPEC")]
    pub against: Vec<PathBuf>,
    /// `sparse-gp`: time only the fit's own gradient, not autograd through the whole bound
    /// (which holds every kernel block of the data: gigabytes on the large sets).
    #[arg(long)]
    pub two_pass_only: bool,
    /// MC samples T for the timed evaluation of the grid's validation rows.
    #[arg(long, default_value_t = 10_000)]
    pub mc_samples: usize,
    /// Largest activation tensor (elements) one MC chunk may create.
    #[arg(long, default_value_t = crate::protocol::execute::DEFAULT_MC_BUDGET)]
    pub mc_budget: usize,
    /// Members timed one at a time (their rate is per member, so a few suffice).
    #[arg(long, default_value_t = 12)]
    pub serial_members: usize,
    /// The PyTorch peer script to time beside ours; `none` skips it.
    #[arg(long, default_value = "../shared/bench/ref_torch_uci.py")]
    pub peer: String,
    /// `gp`: the GPyTorch peer fitting the program's first split beside one fit of ours (same
    /// data, start and L-BFGS iteration cap; the project's own, since ../shared is read-only);
    /// `none` skips it.
    #[arg(long, default_value = "scripts/bench/ref_gpytorch_gp.py")]
    pub gp_peer: String,
    /// `gp`: when the GPyTorch peer's L-BFGS stops: `torch` (torch's default tolerances, as
    /// its users fit), `ours` (mcdrop's scipy tolerances, restated for the loss per row that
    /// the peer minimizes), or `both` (two peer fits).
    #[arg(long, value_enum, default_value_t = PeerStop::Torch)]
    pub gp_peer_stop: PeerStop,
    /// `gp`: splits of the program (its first members, at most `--splits`) fitted by both
    /// sides; the ratios are over their summed seconds, since one fit's iteration count can
    /// differ by chance between two optimizers' paths.
    #[arg(long, default_value_t = 1)]
    pub peer_fits: usize,
    /// Python that runs the peer (needs torch and numpy; gpytorch for `--gp-peer`).
    #[arg(long, default_value = ".venv/bin/python")]
    pub python: PathBuf,
}

/// The stopping rule of the GPyTorch peer's fit (`mcdrop bench gp --gp-peer-stop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeerStop {
    Torch,
    Ours,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchTarget {
    /// The UCI grid search of one data set.
    Uci,
    /// The sparse GP's optimiser step on one set's training splits (use a GP spec).
    SparseGp,
    /// The GP's fit of one program of a set by each optimizer (Adam, L-BFGS, inducing-input
    /// starts), seconds and what each reached (use a GP spec).
    Gp,
    /// The mean-field VI trainer on one set's grid program, hand-written gradient against
    /// autograd (use a VI spec).
    Vi,
    /// The rl experiment's programs: ticks per second with every seed batched against one
    /// seed at a time, where the time goes, and the full spec's time (use an rl spec).
    Rl,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Experiment name(s) (folders under the results directory).
    #[arg(required = true)]
    pub experiments: Vec<String>,
    /// CSV (a header, one row per record) or JSON lines (one object per record). Parquet is
    /// not offered: polars' parquet writer would bring a network stack into the build; both
    /// polars and pandas turn the CSV into parquet in one line.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Experiment name(s), present under both results directories.
    #[arg(required = true)]
    pub experiments: Vec<String>,
    /// The other results directory (e.g. results-fresh from `make reproduce FRESH=1`).
    #[arg(long, value_name = "DIR")]
    pub against: PathBuf,
    #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
    pub format: TableFormat,
}

#[derive(Debug, clap::Args)]
pub struct SlurmArgs {
    /// The spec file.
    pub spec: PathBuf,
    /// Change a setting of the spec without editing it: PATH=VALUE, e.g. training.epochs=10,
    /// model.mc_dropout.hidden_units=100, name=my-variant (repeatable; checked like the file,
    /// and saved with the results and in the spec's identity).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Array tasks, one shard each.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub tasks: u64,
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per task, as sbatch takes it (e.g. 4:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per task; each task runs with that many threads.
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: u32,
    /// GPUs per task.
    #[arg(long)]
    pub gpus: Option<u32>,
    /// Any further sbatch option, as it would follow `#SBATCH` (repeatable).
    #[arg(long, value_name = "ARG")]
    pub sbatch_arg: Vec<String>,
    /// Submit both jobs with sbatch and print their ids.
    #[arg(long)]
    pub submit: bool,
}

#[derive(Debug, clap::Args)]
pub struct CostArgs {
    /// A UCI spec file.
    pub spec: PathBuf,
    /// Another UCI spec over the same sets (e.g. the grid-searched one) to compare costs with.
    #[arg(long, value_name = "SPEC")]
    pub against: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Spec files.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Change a setting of the spec without editing it: PATH=VALUE, e.g. training.epochs=10,
    /// model.mc_dropout.hidden_units=100, name=my-variant (repeatable; checked like the file,
    /// and saved with the results and in the spec's identity).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Estimate a run from scratch (`make reproduce FRESH=1`) instead of what is left: each
    /// spec's cost model is calibrated by running a shortened copy of its work here (a
    /// minute or two a spec); the last line is `total: N h M min`.
    #[arg(long)]
    pub fresh: bool,
    /// With --fresh: the run as `make reproduce FRESH=1` makes it in N lanes, each UCI spec's
    /// programs in N worker processes (`run --jobs N`) and the other specs N at a time in the
    /// order given. Give `--threads` one lane's threads, so the calibration runs as a lane does.
    #[arg(long, value_name = "N", requires = "fresh", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Also print how `--shard I/N` splits each UCI spec's programs into N shards.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shards: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Experiments to verify (folders under the results directory; default: every one there).
    pub experiments: Vec<String>,
    /// Time the reruns may take together, e.g. 10m or 1h; the sample is chosen to fit it.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub budget: std::time::Duration,
    /// Exactly these units instead of a sample, e.g. yacht:0,boston:3 (repeatable); an rl
    /// run by its policy and seed, e.g. thompson:0.
    #[arg(long, value_name = "SET:SPLIT,...")]
    pub units: Vec<String>,
    /// Overrides each saved spec's device.
    #[arg(long)]
    pub device: Option<DeviceChoice>,
    /// Largest activation tensor (elements) one MC-sampling chunk may create.
    #[arg(long, default_value_t = crate::protocol::execute::DEFAULT_MC_BUDGET)]
    pub mc_budget: usize,
    /// Print the plan and stop.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Specs to check (default: experiments/smoke-*.yaml).
    pub specs: Vec<PathBuf>,
    /// Where baselines live.
    #[arg(long, default_value = "results/baselines")]
    pub baselines: PathBuf,
    /// Rewrite the baselines from fresh runs instead of checking.
    #[arg(long)]
    pub update: bool,
    /// With --update: groups of three seeds run to measure each metric's median's mean and
    /// seed-to-seed spread [default: as many as the committed baseline has, else 10].
    #[arg(long, value_name = "GROUPS")]
    pub seeds: Option<usize>,
    /// Shift every spec's seeds by K: runs the baseline never saw, as another machine or a
    /// harmless code change would give (the false-alarm measurement runs K = 1..20).
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub seed_offset: u64,
    /// Keep each rerun's results under DIR/<experiment>/seed-<seed>/ instead of a scratch
    /// directory that is removed (to look at what the check computed, or compare it).
    #[arg(long, value_name = "DIR")]
    pub keep_results: Option<PathBuf>,
}
