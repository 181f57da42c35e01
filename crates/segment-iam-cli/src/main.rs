//! `segment-iam`: see the library crate for the commands.

fn main() -> std::process::ExitCode {
    segment_iam_cli::main_entry()
}
