//! `cargo run -p mutu-publiccode --example check -- FILE [--yaml]`: validates a
//! publiccode.yml (files it refers to are looked up beside it) and prints the
//! findings, or the file as written back with `--yaml`.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: check FILE [--yaml]");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = Path::new(path).parent().unwrap_or(Path::new("."));
    let options = mutu_publiccode::Options {
        base_dir: Some(dir),
        ..Default::default()
    };
    let report = mutu_publiccode::parse(&bytes, &options);
    for diagnostic in &report.diagnostics {
        println!("{diagnostic}");
    }
    if args.iter().any(|a| a == "--yaml")
        && let Some(document) = &report.document
    {
        print!("{}", mutu_publiccode::to_yaml(document));
    }
    if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
