//! `mcdrop report [EXPERIMENT...]`: gathers what the reviewer's page says from the records
//! (tables and figures through the same code as `table` and `plot`, provenance from the
//! manifests, coverage and the plan from each repository spec's survey, the latest verify
//! report) and writes the page atomically.

use std::path::{Path, PathBuf};

use crate::cli::{Cli, ReportArgs};
use crate::data::DataDirs;
use crate::device::DeviceChoice;
use crate::report::experiment::{load_experiment, Loaded, LoadedExperiment};
use crate::report::figures::all::{draw_all, FigureSink, Placement};
use crate::report::figures::{png, svg, Figure};
use crate::report::format::duration;
use crate::report::html::{page, Coverage, ExperimentSection, FigureBlock, PlanLine, ReportContent, VerifySummary};
use crate::report::tables::tables_of;
use crate::results::atomic::write_atomic;
use crate::results::ExperimentStore;
use crate::verify::rerun::VerifyReport;
use crate::verify::verdict::Verdict;

pub fn report(cli: &Cli, args: &ReportArgs) -> anyhow::Result<()> {
    let names =
        if args.experiments.is_empty() { experiments_under(&cli.results_dir)? } else { args.experiments.clone() };
    let mut loaded = names.iter().map(|e| load_experiment(&cli.results_dir, e)).collect::<Result<Vec<_>, _>>()?;
    // UCI experiments first, so that the overview's Table 1 is one slice of them.
    loaded.sort_by_key(|e| !matches!(e.data, Loaded::Uci(_)));
    let uci = loaded.iter().filter(|e| matches!(e.data, Loaded::Uci(_))).count();
    let output = args.output.clone().unwrap_or_else(|| cli.results_dir.join("report/index.html"));
    let data = DataDirs::new(cli.data_dir.as_deref());

    let mut figures = Inline::default();
    draw_all(&loaded, &mut figures)?;
    let overview_tables = if uci > 1 { tables_of(&loaded[..uci], None)? } else { Vec::new() };
    let mut experiments = Vec::new();
    let mut plan = Vec::new();
    let mut found_in: Vec<PathBuf> = Vec::new();
    for e in &loaded {
        let spec_path = repository_spec(&args.specs, &e.name);
        if let Some(dir) = spec_path.as_ref().and_then(|p| p.parent()) {
            if !found_in.iter().any(|d| d == dir) {
                found_in.push(dir.to_path_buf());
            }
        }
        let survey = match (&spec_path, &data) {
            (None, _) => Err(format!("no spec `{}.yaml` under {} to compare with", e.name, args.specs.display())),
            (_, Err(why)) => Err(format!("the data sets are not readable here ({why})")),
            (Some(path), Ok(data)) => crate::spec::load(path)
                .and_then(|spec| {
                    crate::protocol::survey::survey(&spec, &ExperimentStore::new(&cli.results_dir, &e.name), data)
                })
                .map_err(|why| why.to_string()),
        };
        if let (Some(path), Ok(s)) = (&spec_path, &survey) {
            plan.push(PlanLine {
                spec: path.display().to_string(),
                recorded: s.recorded(),
                to_train: s.to_train(),
                estimate: s.estimate(),
            });
        }
        experiments.push(ExperimentSection {
            name: e.name.clone(),
            description: e.spec.description.clone(),
            profile: e.spec.raw.profile.as_str().to_string(),
            tables: tables_of(std::slice::from_ref(e), None)?,
            figures: figures.take(Some(&e.name)),
            provenance: provenance(&cli.results_dir, e)?,
            coverage: survey.map(|s| {
                s.lines
                    .iter()
                    .map(|l| Coverage { what: l.what.clone(), recorded: l.recorded, to_train: l.to_train })
                    .collect()
            }),
        });
    }
    let content = ReportContent {
        title: format!("mcdrop: Dropout as a Bayesian Approximation, reproduced ({} experiments)", loaded.len()),
        generated: vec![
            ("Written".into(), humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()),
            ("By".into(), format!("mcdrop {} (commit {})", env!("CARGO_PKG_VERSION"), env!("MCDROP_GIT_COMMIT"))),
            ("Machine".into(), crate::results::provenance::this_machine()),
            ("Results".into(), cli.results_dir.display().to_string()),
            ("Regenerate".into(), format!("mcdrop report {}", names.join(" "))),
        ],
        overview_tables,
        overview_figures: figures.take_across("uci-"),
        mnist_figures: figures.take_across("mnist-"),
        not_run: not_run(&found_in, &cli.results_dir),
        verify: latest_verify(&cli.results_dir, &output)?,
        experiments,
        plan,
    };
    write_atomic(&output, page(&content).as_bytes())?;
    println!("{}", output.display());
    Ok(())
}

/// Every folder of `results_dir` that holds a saved spec, by name.
fn experiments_under(results_dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries = std::fs::read_dir(results_dir).map_err(crate::Error::io(results_dir))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("spec.yaml").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    if names.is_empty() {
        anyhow::bail!("no experiment results under {}: run one first (mcdrop run SPEC)", results_dir.display());
    }
    Ok(names)
}

/// `<specs>/<name>.yaml`, else `<specs>/quick/<name>.yaml`.
fn repository_spec(specs: &Path, name: &str) -> Option<PathBuf> {
    [specs.join(format!("{name}.yaml")), specs.join("quick").join(format!("{name}.yaml"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// Specs in `dirs` (smoke specs aside: `mcdrop check` runs those) with no results, and why.
fn not_run(dirs: &[PathBuf], results_dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            if path.extension().is_none_or(|x| x != "yaml") || stem.starts_with("smoke-") {
                continue;
            }
            if results_dir.join(&stem).join("spec.yaml").is_file() {
                continue;
            }
            let why = match crate::spec::load(&path) {
                Ok(spec) if spec.device == DeviceChoice::Cuda => {
                    "needs a GPU (device: cuda); run it where there is one".to_string()
                }
                Ok(_) => format!("no results yet; mcdrop run {}", path.display()),
                Err(e) => format!("does not load: {e}"),
            };
            out.push((path.display().to_string(), why));
        }
    }
    out
}

/// What the manifest says of the experiment's runs, and for UCI the commits of its records.
fn provenance(results_dir: &Path, e: &LoadedExperiment) -> anyhow::Result<Vec<(String, String)>> {
    let store = ExperimentStore::new(results_dir, &e.name);
    let mut out = vec![("Spec".to_string(), format!("{} (sha256 {})", e.spec.source.display(), &e.spec.sha256[..12]))];
    if let Some(m) = store.manifest()? {
        let distinct = |f: &dyn Fn(&crate::results::store::RunEntry) -> String| tally(m.runs.iter().map(f), " run(s)");
        let wall: f64 = m.runs.iter().map(|r| r.wall_seconds()).sum();
        out.push(("Runs".into(), format!("{}, {} of wall time in all that ended", m.runs.len(), duration(wall))));
        out.push(("Run commits".into(), distinct(&|r| short(&r.provenance.git_commit))));
        out.push(("Machine, numerics".into(), distinct(&|r| r.provenance.machine())));
        out.push(("Device".into(), distinct(&|r| r.provenance.device.clone())));
        out.push((
            "Threads".into(),
            distinct(&|r| r.provenance.threads.map_or("not recorded".into(), |t| t.to_string())),
        ));
        if let Some(last) = m.runs.last() {
            out.push(("Last run".into(), format!("{}, started {}", last.status(), last.started)));
        }
    }
    if matches!(e.data, Loaded::Uci(_)) {
        let commits = store.records()?.iter().map(|r| short(&r.provenance.git_commit)).collect::<Vec<_>>();
        out.push(("Records by commit".into(), tally(commits.into_iter(), "")));
    }
    Ok(out)
}

/// Each distinct value with how often it came, in order of first appearance:
/// `a (3<unit>); b (1<unit>)`.
fn tally(values: impl Iterator<Item = String>, unit: &str) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for v in values {
        match seen.iter_mut().find(|(s, _)| *s == v) {
            Some((_, n)) => *n += 1,
            None => seen.push((v, 1)),
        }
    }
    seen.iter().map(|(v, n)| format!("{v} ({n}{unit})")).collect::<Vec<_>>().join("; ")
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect::<String>() + if commit.ends_with("-dirty") { "-dirty" } else { "" }
}

/// The newest `results/verify/*.json`, summarized, with a link to its markdown from `page`.
fn latest_verify(results_dir: &Path, page: &Path) -> anyhow::Result<Option<VerifySummary>> {
    let dir = results_dir.join("verify");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(None) };
    let Some(newest) =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).max()
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&newest).map_err(crate::Error::io(&newest))?;
    let report: VerifyReport = serde_json::from_str(&text)
        .map_err(|e| crate::Error::Usage(format!("{}: not a verify report ({e})", newest.display())))?;
    let experiments = report
        .experiments
        .iter()
        .map(|name| {
            let mut counts = [0; 3];
            for u in report.units.iter().filter(|u| &u.experiment == name) {
                counts[match u.verdict {
                    Verdict::Identical => 0,
                    Verdict::Consistent => 1,
                    Verdict::Inconsistent => 2,
                }] += 1;
            }
            (name.clone(), counts)
        })
        .collect();
    Ok(Some(VerifySummary {
        link: relative_link(page, &newest.with_extension("md")),
        started: report.started,
        head_commit: report.head_commit,
        machine: report.machine,
        experiments,
        not_run: report.not_run.len(),
        skipped: report.skipped,
    }))
}

/// `target` as a link from the page at `page` (relative when both resolve, else absolute).
fn relative_link(page: &Path, target: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, to) = (absolute(page.parent().unwrap_or(Path::new("."))), absolute(target));
    let common = from.components().zip(to.components()).take_while(|(a, b)| a == b).count();
    let mut link = PathBuf::new();
    for _ in from.components().skip(common) {
        link.push("..");
    }
    for c in to.components().skip(common) {
        link.push(c);
    }
    link.display().to_string()
}

/// Collects each figure as SVG, by the experiment it belongs to.
#[derive(Default)]
struct Inline {
    /// (experiment, file stem, figure), in drawing order.
    figures: Vec<(Option<String>, &'static str, FigureBlock)>,
}

impl Inline {
    fn take_where(&mut self, keep: impl Fn(Option<&str>, &str) -> bool) -> Vec<FigureBlock> {
        let (mine, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.figures).into_iter().partition(|(e, stem, _)| keep(e.as_deref(), stem));
        self.figures = rest;
        mine.into_iter().map(|(_, _, f)| f).collect()
    }

    /// The figures of `experiment`.
    fn take(&mut self, experiment: Option<&str>) -> Vec<FigureBlock> {
        self.take_where(|e, _| e == experiment)
    }

    /// The figures across experiments whose stem starts with `prefix`.
    fn take_across(&mut self, prefix: &str) -> Vec<FigureBlock> {
        self.take_where(|e, stem| e.is_none() && stem.starts_with(prefix))
    }
}

impl FigureSink for Inline {
    fn put(&mut self, place: Placement<'_>, figure: &impl Figure) -> crate::error::Result<()> {
        let (vector, raster) = (svg(figure)?.into_bytes(), png(figure)?);
        let block = if vector.len() <= raster.len() {
            FigureBlock { title: place.title, mime: "image/svg+xml", bytes: vector }
        } else {
            FigureBlock { title: place.title, mime: "image/png", bytes: raster }
        };
        self.figures.push((place.experiment.map(str::to_string), place.stem, block));
        Ok(())
    }
}
