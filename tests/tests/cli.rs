//! The command line's one-line errors: QEMU missing or too old (with the
//! install hint), a socket path already in use, an image not found.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::process::Command;
use std::time::Duration;

use system_tests::qemu::{daemon_bin, run_with_deadline};

const LIMIT: Duration = Duration::from_secs(30);

fn scratch(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vup-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the daemon; returns (exit code, stderr).
fn daemon(args: &[&str]) -> (Option<i32>, String) {
    let mut c = Command::new(daemon_bin());
    c.args(args);
    let out = run_with_deadline(c, LIMIT).expect("the daemon answers at once");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line of error: {stderr:?}");
    lines[0]
}

#[test]
fn missing_image_is_a_one_line_error() {
    let d = scratch("image");
    let img = d.join("nope");
    let (code, err) = daemon(&["run", "--accel", "tcg", img.to_str().unwrap()]);
    assert_eq!(code, Some(125));
    assert!(one_line(&err).contains("not found"), "{err}");
}

#[test]
fn missing_qemu_names_the_install_command() {
    let d = scratch("noqemu");
    let img = d.join("img");
    std::fs::write(&img, b"x").unwrap();
    let (code, err) = daemon(&["run", "--qemu", "/nonexistent/qemu", img.to_str().unwrap()]);
    assert_eq!(code, Some(125));
    let line = one_line(&err);
    assert!(
        line.contains("not found") && line.contains("bookworm-backports"),
        "{line}"
    );
}

#[test]
fn too_old_qemu_is_refused_with_the_install_command() {
    let d = scratch("oldqemu");
    let fake = d.join("qemu-system-x86_64");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7)'\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let img = d.join("img");
    std::fs::write(&img, b"x").unwrap();
    let (code, err) = daemon(&[
        "run",
        "--qemu",
        fake.to_str().unwrap(),
        img.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(125));
    let line = one_line(&err);
    assert!(
        line.contains("7.2") && line.contains("too old") && line.contains("install"),
        "{line}"
    );
}

#[test]
fn socket_path_in_use_is_refused() {
    let d = scratch("socket");
    let sock = d.join("busy.sock");
    let _listener = UnixListener::bind(&sock).unwrap();
    let (code, err) = daemon(&[
        "serve",
        "--accel",
        "tcg",
        "--socket-path",
        sock.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(125));
    assert!(one_line(&err).contains("already in use"), "{err}");
}

#[test]
fn a_program_missing_from_the_root_is_a_one_line_error() {
    let d = scratch("noprog");
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::fs::write(d.join("bin/data"), b"x").unwrap();
    let root = d.to_str().unwrap();
    let (code, err) = daemon(&["run", "--accel", "tcg", "--root", root, "nosuch"]);
    assert_eq!(code, Some(125));
    let line = one_line(&err);
    assert!(
        line.contains("'nosuch' not found in") && line.contains("ENOENT"),
        "{line}"
    );
    // Found but not executable: that is what it says.
    let (code, err) = daemon(&["run", "--accel", "tcg", "--root", root, "data"]);
    assert_eq!(code, Some(125));
    assert!(one_line(&err).contains("EACCES"), "{err}");
    let (code, err) = daemon(&["run", "--root", "/nonexistent/root", "sh"]);
    assert_eq!(code, Some(125));
    assert!(
        one_line(&err).contains("cannot open the root directory"),
        "{err}"
    );
}

#[test]
fn a_linux_program_without_the_process_kernel_names_the_build_command() {
    let d = scratch("nokernel");
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::fs::copy("/bin/true", d.join("bin/true")).unwrap();
    let (code, err) = daemon(&[
        "run",
        "--accel",
        "tcg",
        "--kernel",
        "/nonexistent/guest-kernel",
        "--root",
        d.to_str().unwrap(),
        "true",
    ]);
    assert_eq!(code, Some(125));
    let line = one_line(&err);
    assert!(
        line.contains("Linux program") && line.contains("guest-kernel/build-image"),
        "{line}"
    );
}

/// `serve` has no pool (its root's QEMU is launched by hand): only `run`
/// offers `--pool`, and refuses a size that is not a number.
#[test]
fn the_pool_is_an_option_of_run_only() {
    let help = |cmd: &str| {
        let out = Command::new(daemon_bin())
            .args([cmd, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(help("run").contains("--pool <POOL>"));
    assert!(!help("serve").contains("--pool"));
    let (code, err) = daemon(&["run", "--pool", "many", "/bin/true"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--pool"), "{err}");
}
