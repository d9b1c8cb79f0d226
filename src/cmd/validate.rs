//! `mcdrop validate SPEC...`: parse and check each spec, report every broken one.

use std::path::PathBuf;

use crate::error::Error;

pub fn validate(specs: &[PathBuf]) -> anyhow::Result<()> {
    let mut broken = 0;
    for path in specs {
        match crate::spec::load(path) {
            Ok(spec) => println!("ok: {} (experiment `{}`, sha256 {})", path.display(), spec.name, &spec.sha256[..12]),
            Err(e) => {
                eprintln!("error: {e}");
                broken += 1;
            }
        }
    }
    if broken > 0 {
        return Err(Error::Usage(format!("{broken} of {} spec(s) are invalid", specs.len())).into());
    }
    Ok(())
}
