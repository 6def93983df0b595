//! Keeps `spec/conformance-report.md` in step with `spec/virtio-pipe.md`
//! and with the tests: every label of the spec has one row, in spec order;
//! every test a row names exists; and the conformance tests' `// spec:`
//! comments and the report agree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

fn read(rel: &str) -> String {
    let p = workspace().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The labels of the spec's normative statements (`- [`label`] ...`), in order.
fn spec_labels() -> Vec<String> {
    read("spec/virtio-pipe.md")
        .lines()
        .filter_map(|l| l.strip_prefix("- [`"))
        .filter_map(|l| l.split_once("`]").map(|(label, _)| label.to_owned()))
        .collect()
}

/// One row of the report's table.
#[derive(Debug)]
struct Row {
    label: String,
    /// (file relative to the workspace, test function name).
    tests: Vec<(String, String)>,
    status: String,
}

/// The rows of the table under the report's `## Table` heading.
fn report_rows() -> Vec<Row> {
    read("spec/conformance-report.md")
        .lines()
        .skip_while(|l| l.trim() != "## Table")
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            assert!(cells.len() >= 3, "row with fewer than 3 cells: {l}");
            let label = cells[0].trim_matches('`').to_owned();
            let tests = cells[1]
                .split("<br>")
                .map(str::trim)
                .filter(|t| !t.is_empty() && *t != "-")
                .map(|t| {
                    let t = t.trim_matches('`');
                    let (file, name) = t
                        .rsplit_once("::")
                        .unwrap_or_else(|| panic!("{label}: `{t}` is not file::test_name"));
                    (file.to_owned(), name.to_owned())
                })
                .collect();
            Row {
                label,
                tests,
                status: cells[2].to_owned(),
            }
        })
        .collect()
}

/// `fn name` → the labels of the `// spec:` comments just above it, for
/// every test function of `source`.
fn cited_labels(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let mut pending: BTreeSet<String> = BTreeSet::new();
    for line in source.lines().map(str::trim) {
        if let Some(labels) = line.strip_prefix("// spec:") {
            pending.extend(labels.split(',').map(|l| l.trim().to_owned()));
        } else if let Some(rest) = line.strip_prefix("fn ") {
            let name = rest.split(['(', '<']).next().unwrap_or("").to_owned();
            if !pending.is_empty() {
                out.insert(name, std::mem::take(&mut pending));
            }
        } else if !line.starts_with("#[") && !line.starts_with("//") {
            pending.clear();
        }
    }
    out
}

fn conformance_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(workspace().join("tests/tests"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("conformance") && n.ends_with(".rs"))
        .map(|n| format!("tests/tests/{n}"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_spec_label_is_in_the_conformance_report() {
    let labels = spec_labels();
    assert!(labels.len() > 90, "labels parsed from the spec: {labels:?}");
    let rows = report_rows();
    let reported: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        reported, labels,
        "the report has one row per spec label, in spec order"
    );
    for row in &rows {
        let s = row.status.as_str();
        assert!(
            s.starts_with("tested") || s.starts_with("not tested") || s.starts_with("fails"),
            "{}: status must say tested, not tested or fails: {s}",
            row.label
        );
        if s.starts_with("tested") {
            assert!(!row.tests.is_empty(), "{}: tested by what?", row.label);
        }
        // Every test the report names exists.
        for (file, name) in &row.tests {
            let source = read(file);
            assert!(
                source.contains(&format!("fn {name}(")),
                "{}: {file} has no fn {name}",
                row.label
            );
        }
    }
}

#[test]
fn the_report_and_the_tests_spec_comments_agree() {
    let rows = report_rows();
    let by_label: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.label.as_str(), r)).collect();
    let labels: BTreeSet<String> = spec_labels().into_iter().collect();
    for file in conformance_files() {
        for (name, cited) in cited_labels(&read(&file)) {
            for label in &cited {
                assert!(
                    labels.contains(label),
                    "{file}::{name} cites unknown {label}"
                );
                let row = by_label
                    .get(label.as_str())
                    .unwrap_or_else(|| panic!("{label} has no row in the report"));
                assert!(
                    row.tests.iter().any(|(f, n)| *f == file && *n == name),
                    "{file}::{name} cites {label} but the report's row does not list it"
                );
            }
        }
    }
    for row in &rows {
        for (file, name) in &row.tests {
            if !file.starts_with("tests/tests/conformance") {
                continue;
            }
            let cited = cited_labels(&read(file));
            assert!(
                cited.get(name).is_some_and(|c| c.contains(&row.label)),
                "the report lists {file}::{name} for {} but its `// spec:` comment does not",
                row.label
            );
        }
    }
}
