//! The `lookout` command: one binary, one subcommand per job.
mod cli;

fn main() -> std::process::ExitCode {
    lookout::runtime::tune_allocator();
    match cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
