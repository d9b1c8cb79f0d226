//! `mcdrop validate SPEC... [--set PATH=VALUE...]`: parse and check each spec (with the
//! overrides), report every broken one.

use std::path::PathBuf;

use crate::error::Error;

pub fn validate(specs: &[PathBuf], overrides: &[String]) -> anyhow::Result<()> {
    let mut broken = 0;
    for path in specs {
        match crate::spec::load_with(path, overrides) {
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
