//! Gives the converter an rpath to the libtorch it linked against (torch-sys exports the
//! folder as DEP_TCH_LIBTORCH_LIB), so that it runs without LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
}
