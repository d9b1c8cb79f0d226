//! Embeds the libtorch directory as an rpath so `mcdrop` runs without LD_LIBRARY_PATH, records
//! for provenance the PyTorch version it links against and the commit it is built from, and
//! compiles the CUDA graph shim (src/device/cuda_graph.cpp) against the wheel's headers.
//!
//! torch-sys links libtorch dynamically but adds no rpath to the final binary; it passes the
//! library directory to direct dependents as DEP_TCH_LIBTORCH_LIB (its `links = "tch"`).
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo::rustc-check-cfg=cfg(mcdrop_cuda_graph)");
    let mut version = "unknown".to_string();
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        // A CUDA wheel splits libtorch into a CPU and a CUDA library. Nothing in our code calls
        // the CUDA one directly, so the linker's --as-needed would drop it and libtorch would
        // then report no GPU at run time. Keep it as a dependency where the wheel has it.
        if std::path::Path::new(&dir).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
        build_cuda_graph_shim(std::path::Path::new(&dir));
        // <site-packages>/torch/lib -> <site-packages>/torch/version.py: `__version__ = '2.11.0+cu130'`
        let version_py = std::path::Path::new(&dir).join("../version.py");
        if let Ok(text) = std::fs::read_to_string(&version_py) {
            if let Some(v) = text.lines().find_map(|l| l.strip_prefix("__version__ = ")) {
                version = v.trim_matches(|c| c == '\'' || c == '"').to_string();
            }
        }
    }
    println!("cargo:rustc-env=MCDROP_TORCH_VERSION={version}");
    println!("cargo:rustc-env=MCDROP_GIT_COMMIT={}", source_commit());
}

/// Compiles the CUDA graph shim where the wheel is a CUDA build (its headers, the CUDA runtime
/// headers of its nvidia-* packages, libtorch_cuda), and sets `cfg(mcdrop_cuda_graph)`. A CPU
/// wheel builds without it: training then always launches eagerly. The headers suffice, so this
/// builds on a machine without a GPU.
fn build_cuda_graph_shim(lib_dir: &std::path::Path) {
    let shim = "src/device/cuda_graph.cpp";
    println!("cargo:rerun-if-changed={shim}");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let torch = lib_dir.join("..");
    let include = torch.join("include");
    let Some(cuda_include) = std::fs::read_dir(torch.join("../nvidia"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("include"))
        .find(|dir| dir.join("cuda_runtime_api.h").exists())
    else {
        println!("cargo:warning=no CUDA runtime headers beside the torch wheel: built without CUDA graphs");
        return;
    };
    if !include.join("ATen/cuda/CUDAGraph.h").exists() || !lib_dir.join("libc10_cuda.so").exists() {
        println!("cargo:warning=the torch wheel is not a CUDA build: built without CUDA graphs");
        return;
    }
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file(shim)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .include(&cuda_include)
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .warnings(false)
        .compile("mcdrop_cuda_graph");
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    for lib in ["torch_cuda", "c10_cuda", "torch_cpu", "c10"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    println!("cargo:rustc-cfg=mcdrop_cuda_graph");
}

/// `git rev-parse HEAD` of the checkout being built, with `-dirty` when the files that make
/// the binary (not results/ or docs) differ from it; `unknown` outside git. Taken at build
/// time so a binary copied elsewhere (/tmp for a long run, a GPU machine without .git) still
/// says what it is, and so committing results mid-run does not mark later records dirty.
fn source_commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    const SOURCES: [&str; 5] = ["src", "build.rs", "Cargo.toml", "Cargo.lock", "assets"];
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    let Some(commit) = git(&["rev-parse", "HEAD"]) else { return "unknown".into() };
    // A new commit moves HEAD or the branch it names (loose or packed).
    let mut refs = vec!["HEAD".to_string(), "packed-refs".to_string()];
    refs.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in refs {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]).filter(|p| std::path::Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    match git(&status) {
        Some(changes) if changes.is_empty() => commit,
        _ => format!("{commit}-dirty"),
    }
}
