//! `mcdrop slurm SPEC --tasks N`: a Slurm job array whose task i runs `--shard i/N` of the
//! spec, and a follow-up job (after every task succeeded) that writes the tables, figures and
//! summary. Writes both scripts under `<results>/<experiment>/slurm/`; with `--submit` it calls
//! `sbatch` and prints the job ids. The results directory must be one every node sees.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::cli::{Cli, SlurmArgs};
use crate::results::atomic::write_atomic;
use crate::spec::Experiment;

pub fn slurm(cli: &Cli, args: &SlurmArgs) -> anyhow::Result<()> {
    let spec = crate::spec::load_with(&args.spec, &args.set)?;
    let absolute = |p: &Path| -> anyhow::Result<PathBuf> {
        Ok(if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir()?.join(p) })
    };
    let results = absolute(&cli.results_dir)?;
    let exe = std::env::current_exe().context("finding the mcdrop executable")?;
    let dir = results.join(&spec.name).join("slurm");
    // With overrides, the tasks run the resolved spec, so that each sees the same settings.
    let spec_path = if args.set.is_empty() {
        absolute(&args.spec)?
    } else {
        let resolved = dir.join("spec.yaml");
        crate::results::atomic::write_atomic(&resolved, crate::spec::to_yaml(&spec.raw).as_bytes())?;
        resolved
    };
    let tasks = args.tasks as usize;
    let mut global = format!("{} --results-dir {}", quote(&exe), quote(&results));
    if let Some(data) = &cli.data_dir {
        global.push_str(&format!(" --data-dir {}", quote(&absolute(data)?)));
    }
    let mut header = vec![format!("#SBATCH --cpus-per-task={}", args.cpus_per_task)];
    if let Some(p) = &args.partition {
        header.push(format!("#SBATCH --partition={p}"));
    }
    if let Some(t) = &args.time {
        header.push(format!("#SBATCH --time={t}"));
    }
    if let Some(g) = args.gpus {
        header.push(format!("#SBATCH --gpus={g}"));
    }
    header.extend(args.sbatch_arg.iter().map(|a| format!("#SBATCH {a}")));
    let header = header.join("\n");
    let array = format!(
        "#!/bin/bash\n# Written by `mcdrop slurm`: task i of {tasks} runs shard i/{tasks} of {spec_name}.\n\
         #SBATCH --job-name=mcdrop-{spec_name}\n#SBATCH --array=0-{last}\n#SBATCH --output={log}\n{header}\n\
         set -euo pipefail\n\
         exec {global} --threads \"${{SLURM_CPUS_PER_TASK:-1}}\" run {spec} --shard \"$SLURM_ARRAY_TASK_ID/{tasks}\"\n",
        spec_name = spec.name,
        last = tasks - 1,
        log = quote(&dir.join("task-%a.log")),
        spec = quote(&spec_path),
    );
    let name = &spec.name;
    let tables = match spec.experiment {
        Experiment::UciRegression(_) => {
            format!("{global} table {name} --output {}\n", quote(&results.join(name).join("table.md")))
        }
        _ => format!("{global} table {name}\n{global} plot {name}\n"),
    };
    let finish = format!(
        "#!/bin/bash\n# Written by `mcdrop slurm`: after every task of the array succeeded.\n\
         #SBATCH --job-name=mcdrop-{name}-finish\n#SBATCH --output={log}\n#SBATCH --cpus-per-task=1\n\
         set -euo pipefail\n{tables}{global} summary {name}\n",
        log = quote(&dir.join("finish.log")),
    );
    let (array_path, finish_path) = (dir.join("array.sbatch"), dir.join("finish.sbatch"));
    write_atomic(&array_path, array.as_bytes())?;
    write_atomic(&finish_path, finish.as_bytes())?;
    println!("wrote {} and {}", array_path.display(), finish_path.display());
    if !args.submit {
        println!("submit with:\n  job=$(sbatch --parsable {})", array_path.display());
        println!("  sbatch --dependency=afterok:$job {}", finish_path.display());
        return Ok(());
    }
    let array_id = sbatch(&[array_path.as_os_str().to_str().unwrap_or_default()])?;
    let dependency = format!("--dependency=afterok:{array_id}");
    let finish_id = sbatch(&[&dependency, finish_path.as_os_str().to_str().unwrap_or_default()])?;
    println!("submitted: array job {array_id} ({tasks} tasks), follow-up job {finish_id}");
    Ok(())
}

/// Runs `sbatch --parsable ARGS` and returns the job id it prints.
fn sbatch(args: &[&str]) -> anyhow::Result<String> {
    let out =
        Command::new("sbatch").arg("--parsable").args(args).output().context("running sbatch (is Slurm installed?)")?;
    if !out.status.success() {
        bail!("sbatch {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.trim().split(';').next().unwrap_or_default().to_string())
}

/// A path as one shell word.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}
