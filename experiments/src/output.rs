//! Where results go and how they are written: `book/src/figures/<experiment>/` under the
//! workspace root, with CSV and JSON for raw data and `meta.json` for the context.
//!
//! The root is found from this crate's `CARGO_MANIFEST_DIR`, so an experiment writes into the
//! book no matter which directory it was started from.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::machine::Machine;

/// The workspace root (the folder holding `book.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `book/src/figures/<experiment>/`, created if missing.
pub fn figures_dir(experiment: &str) -> Result<PathBuf> {
    let dir = workspace_root().join("book/src/figures").join(experiment);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Where a run writes: the book's figure folder in full mode, and
/// `target/experiments/quick/<experiment>/` in `--quick` mode, so that CI and `make test`
/// exercise every output path without replacing the figures the book shows.
pub fn figures_dir_for(experiment: &str, quick: bool) -> Result<PathBuf> {
    if !quick {
        return figures_dir(experiment);
    }
    let dir = workspace_root()
        .join("target/experiments/quick")
        .join(experiment);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Pretty JSON, newline-terminated.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One CSV field: quoted (RFC 4180) when it holds a comma, a quote or a line break, so a
/// free-text column such as a fault's description cannot shift the columns after it.
fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// A CSV file from a header and rows of already formatted cells (quoted where needed).
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    writeln!(f, "{}", header.join(","))?;
    for row in rows {
        let fields: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
        writeln!(f, "{}", fields.join(","))?;
    }
    f.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct Meta<'a, P: Serialize> {
    experiment: &'a str,
    mode: &'a str,
    finished_at: String,
    duration_s: f64,
    machine: Machine,
    parameters: &'a P,
}

/// Writes `meta.json` (machine, commit, mode, parameters, wall time) into `dir`.
pub fn write_meta(
    dir: &Path,
    experiment: &str,
    mode: &str,
    duration: Duration,
    parameters: &impl Serialize,
) -> Result<()> {
    write_meta_as(dir, "meta.json", experiment, mode, duration, parameters)
}

/// [`write_meta`] under another file name, for an experiment whose parts run separately
/// (each part's figures then name the run they came from).
pub fn write_meta_as(
    dir: &Path,
    file_name: &str,
    experiment: &str,
    mode: &str,
    duration: Duration,
    parameters: &impl Serialize,
) -> Result<()> {
    let meta = Meta {
        experiment,
        mode,
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        duration_s: (duration.as_secs_f64() * 10.0).round() / 10.0,
        machine: Machine::collect(&workspace_root()),
        parameters,
    };
    write_json(&dir.join(file_name), &meta)
}

#[cfg(test)]
mod tests {

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.csv");
        let rows = vec![vec![
            "1".to_string(),
            "a x b, bridge c".into(),
            "say \"hi\"".into(),
        ]];
        write_csv(&path, &["n", "detail", "note"], &rows).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "n,detail,note\n1,\"a x b, bridge c\",\"say \"\"hi\"\"\"\n"
        );
    }
    use super::*;

    #[test]
    fn root_holds_the_book_config() {
        assert!(workspace_root().join("book.toml").is_file());
    }

    #[test]
    fn quick_runs_stay_out_of_the_book() {
        let q = figures_dir_for("harness-selftest", true).unwrap();
        assert!(q.starts_with(workspace_root().join("target")));
        assert!(q.is_dir());
    }

    #[test]
    fn csv_and_json_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        write_csv(&csv, &["k", "v"], &[vec!["x".into(), "1".into()]]).unwrap();
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "k,v\nx,1\n");
        let json = dir.path().join("a.json");
        write_json(&json, &serde_json::json!({"a": 1})).unwrap();
        let back: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(back["a"], 1);
        write_meta(dir.path(), "t", "quick", Duration::from_millis(1500), &back).unwrap();
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("meta.json")).unwrap())
                .unwrap();
        assert_eq!(meta["mode"], "quick");
        assert!(meta["machine"]["cores"].as_u64().unwrap() >= 1);
    }
}
