//! `mcdrop plot EXPERIMENT...`: redraw every figure from the records, without training
//! (`report::figures::all` says which). An experiment's own figures go to
//! `results/<experiment>/figures/`, those across experiments to `--output` (default
//! `results/figures/`), each as PNG and SVG.

use std::path::PathBuf;

use crate::cli::{Cli, PlotArgs};
use crate::error::Error;
use crate::report::experiment::load_experiment;
use crate::report::figures::all::{draw_all, FigureSink, Placement};
use crate::report::figures::{save, Figure};

pub fn plot(cli: &Cli, args: &PlotArgs) -> anyhow::Result<()> {
    let loaded =
        args.experiments.iter().map(|e| load_experiment(&cli.results_dir, e)).collect::<Result<Vec<_>, _>>()?;
    let mut files = Files {
        results_dir: cli.results_dir.clone(),
        across: args.output.clone().unwrap_or_else(|| cli.results_dir.join("figures")),
        written: Vec::new(),
    };
    draw_all(&loaded, &mut files)?;
    for path in &files.written {
        println!("{}", path.display());
    }
    if files.written.is_empty() {
        return Err(Error::Usage("nothing to draw: the experiments have no records yet (run them first)".into()).into());
    }
    Ok(())
}

/// Saves each figure as PNG and SVG where it belongs.
struct Files {
    results_dir: PathBuf,
    across: PathBuf,
    written: Vec<PathBuf>,
}

impl FigureSink for Files {
    fn put(&mut self, place: Placement<'_>, figure: &impl Figure) -> crate::error::Result<()> {
        let dir = match place.experiment {
            Some(name) => self.results_dir.join(name).join("figures"),
            None => self.across.clone(),
        };
        self.written.extend(save(figure, &dir.join(place.stem))?);
        Ok(())
    }
}
