//! Makes the `lookout` binaries find libtorch at run time without LD_LIBRARY_PATH:
//! torch-sys exports the library folder it linked against (`links = "tch"`), and we
//! turn it into an rpath. libtorch's own RPATH then finds the CUDA runtime wheels.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
        if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
