//! Helpers shared by the integration tests: the fixture snapshot and golden-file checks.
//!
//! Golden files are compared byte for byte; run with `UPDATE_GOLDEN=1` to rewrite them, then
//! review the diff like code.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use generator::model::Snapshot;

/// Returns the crate's `tests/` directory.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Loads `tests/fixtures/site.json`.
pub fn fixture() -> Snapshot {
    let path = tests_dir().join("fixtures/site.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Whether this run rewrites golden files instead of checking them.
pub fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Collects golden mismatches so one run reports all of them.
#[derive(Default)]
pub struct Golden {
    failures: Vec<String>,
    seen: BTreeSet<PathBuf>,
}

impl Golden {
    /// Checks (or, when updating, writes) one golden file.
    pub fn check(&mut self, path: &Path, actual: &[u8]) {
        self.seen.insert(path.to_owned());
        if updating() {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
            }
            if fs::read(path).ok().as_deref() != Some(actual) {
                fs::write(path, actual).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            }
            return;
        }
        match fs::read(path) {
            Err(e) => self.failures.push(format!("{}: missing ({e})", path.display())),
            Ok(expected) if expected != actual => {
                self.failures.push(format!("{}:\n{}", path.display(), diff(&expected, actual)));
            }
            Ok(_) => {}
        }
    }

    /// Fails on golden files under `dir` (with extension `ext`, if given) that no check
    /// produced, deleting them instead when updating.
    pub fn no_strays(&mut self, dir: &Path, ext: Option<&str>) {
        for path in files_under(dir) {
            if ext.is_some_and(|e| path.extension().and_then(|x| x.to_str()) != Some(e)) {
                continue;
            }
            if !self.seen.contains(&path) {
                if updating() {
                    fs::remove_file(&path).unwrap_or_else(|e| panic!("rm {}: {e}", path.display()));
                } else {
                    self.failures.push(format!("{}: no page renders this golden file any more", path.display()));
                }
            }
        }
    }

    /// Panics with every mismatch, and how to accept the new output.
    pub fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} golden file(s) differ (rerun with UPDATE_GOLDEN=1 to accept, then review the diff):\n\n{}",
            self.failures.len(),
            self.failures.join("\n\n")
        );
    }
}

/// Lists the files under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Describes the first differing line of two texts, with a little context.
pub fn diff(expected: &[u8], actual: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let actual = String::from_utf8_lossy(actual);
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let Some(at) = (0..e.len().max(a.len())).find(|&i| e.get(i) != a.get(i)) else {
        return "  (the texts differ only in line endings or a final newline)".into();
    };
    let mut out = format!("  first difference at line {}:\n", at + 1);
    for i in at.saturating_sub(2)..at {
        out.push_str(&format!("    {}\n", e.get(i).unwrap_or(&"")));
    }
    out.push_str(&format!("  - {}\n", e.get(at).copied().unwrap_or("<end of file>")));
    out.push_str(&format!("  + {}\n", a.get(at).copied().unwrap_or("<end of file>")));
    out.push_str(&format!("  (expected {} lines, got {})", e.len(), a.len()));
    out
}
