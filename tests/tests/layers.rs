//! Layers point one way, in the daemon and in the guest kernel: every
//! `crate::MODULE` a source file names must be of its own layer or a lower
//! one (`ARCHITECTURE.md`, "Where things are"; `guest-kernel/src/lib.rs`).
//! A lower layer that needs an upper one takes a hook the upper one
//! registers (the guest kernel's `interrupts::Hooks`, the daemon's `Host`
//! and `Events` traits), which this check cannot see and need not.

use std::collections::BTreeMap;
use std::path::Path;

use system_tests::qemu::workspace;

/// The layer of each top-level module, lowest first.
fn ranks(layers: &[&[&str]]) -> BTreeMap<String, usize> {
    layers
        .iter()
        .enumerate()
        .flat_map(|(rank, mods)| mods.iter().map(move |m| (m.to_string(), rank)))
        .collect()
}

/// Every `crate::NAME` in `text`.
fn named_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.push(name);
    }
    out
}

/// The violations in the crate at `src`: (file, its module, the module it names).
fn violations(src: &Path, ranks: &BTreeMap<String, usize>) -> Vec<String> {
    let mut bad = Vec::new();
    let mut stack = vec![src.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().map_or(true, |e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
            let own = *ranks
                .get(&module)
                .unwrap_or_else(|| panic!("{}: module {module} has no layer", path.display()));
            let text = std::fs::read_to_string(&path).unwrap();
            for named in named_modules(&text) {
                // Macros and items at the crate root (`crate::println`).
                let Some(&rank) = ranks.get(&named) else {
                    continue;
                };
                if rank > own {
                    bad.push(format!(
                        "{}: {module} (layer {own}) names crate::{named} (layer {rank})",
                        rel.display()
                    ));
                }
            }
        }
    }
    bad.sort();
    bad
}

#[test]
fn the_guest_kernels_layers_point_one_way() {
    let ranks = ranks(&[
        // Linux's numbers and layouts, then the layers.
        &["linux"],
        &["arch"],
        &["mem"],
        &["drivers"],
        &["loader"],
        &["process"],
        &["syscalls"],
        &["runtime", "logger"],
        &["lib", "main"],
    ]);
    let bad = violations(&workspace().join("guest-kernel/src"), &ranks);
    assert!(bad.is_empty(), "upward references:\n{}", bad.join("\n"));
}

#[test]
fn the_daemons_layers_point_one_way() {
    let ranks = ranks(&[
        &[
            "sync",
            "io",
            "limits",
            "image",
            "accel",
            "qemu",
            "host_tsc",
            "run_dir",
            "ram_copy",
            "rate_limit",
            "chain",
            "guest_memory",
        ],
        &["files", "completions", "signals", "serve", "terminal"],
        &["fdtable", "guest_io"],
        &["process"],
        &["pipe"],
        &["kernel"],
        &[
            "requests", "summary", "program", "launcher", "binding", "pool",
        ],
        &["backend"],
        &["connection"],
        &["supervisor", "test_utils"],
        &["stdio"],
        &["lib"],
        &["main"],
    ]);
    let bad = violations(&workspace().join("vhost-user-pipe/src"), &ranks);
    assert!(bad.is_empty(), "upward references:\n{}", bad.join("\n"));
}

/// The check itself finds an upward reference.
#[test]
fn an_upward_reference_is_found() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("low")).unwrap();
    std::fs::write(dir.path().join("low/a.rs"), "use crate::high::X;\n").unwrap();
    std::fs::write(dir.path().join("high.rs"), "use crate::low::a;\n").unwrap();
    let ranks = ranks(&[&["low"], &["high"]]);
    assert_eq!(
        violations(dir.path(), &ranks),
        vec!["low/a.rs: low (layer 0) names crate::high (layer 1)".to_string()]
    );
}
