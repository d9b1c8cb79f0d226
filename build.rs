//! Embeds the libtorch directory as an rpath so `mcdrop` runs without LD_LIBRARY_PATH, and
//! records the PyTorch version it links against for provenance.
//!
//! torch-sys links libtorch dynamically but adds no rpath to the final binary; it passes the
//! library directory to direct dependents as DEP_TCH_LIBTORCH_LIB (its `links = "tch"`).
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let mut version = "unknown".to_string();
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        // A CUDA wheel splits libtorch into a CPU and a CUDA library. Nothing in our code calls
        // the CUDA one directly, so the linker's --as-needed would drop it and libtorch would
        // then report no GPU at run time. Keep it as a dependency where the wheel has it.
        if std::path::Path::new(&dir).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
        // <site-packages>/torch/lib -> <site-packages>/torch/version.py: `__version__ = '2.11.0+cu130'`
        let version_py = std::path::Path::new(&dir).join("../version.py");
        if let Ok(text) = std::fs::read_to_string(&version_py) {
            if let Some(v) = text.lines().find_map(|l| l.strip_prefix("__version__ = ")) {
                version = v.trim_matches(|c| c == '\'' || c == '"').to_string();
            }
        }
    }
    println!("cargo:rustc-env=MCDROP_TORCH_VERSION={version}");
}
