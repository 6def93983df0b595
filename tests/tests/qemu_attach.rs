//! Stock QEMU (the one `.ci/run` installs) attaches to `vhost-user-pipe
//! serve` with the documented command line of `qemu-configs/README.md`,
//! under TCG, and completes feature negotiation: the guest driver acks
//! VIRTIO_F_VERSION_1 and the virtio-pipe bits, then runs a program that
//! uses the device. Spec: `dev-id-carrier`, `drv-id-match`, `drv-feat-negotiate`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use system_tests::programs;
use system_tests::qemu::{daemon_bin, run_with_deadline, Group};

/// A whole boot under TCG on a loaded 2-core machine takes well under this.
const LIMIT: Duration = Duration::from_secs(60);

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vup-attach-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn qemu_by_hand(
    socket: &Path,
    program: &Path,
    serial: &Path,
    machine: &str,
    device: &[&str],
) -> Command {
    let mut q = Command::new("qemu-system-x86_64");
    q.args([
        "-machine", machine, "-accel", "tcg", "-cpu", "max", "-m", "64M",
    ])
    .args(["-object", "memory-backend-memfd,id=mem,size=64M,share=on"])
    .arg("-chardev")
    .arg(format!("socket,id=vpipe,path={}", socket.display()))
    .args(device)
    .arg("-kernel")
    .arg(programs::kernel())
    .arg("-initrd")
    .arg(program)
    .arg("-serial")
    .arg(format!("file:{}", serial.display()))
    .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
    .args([
        "-display",
        "none",
        "-monitor",
        "none",
        "-nodefaults",
        "-no-reboot",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    q
}

fn attach(tag: &str, machine: &str, device: &[&str]) {
    let d = dir(tag);
    let socket = d.join("vpipe.sock");
    let serial = d.join("serial.log");
    let mut serve = Command::new(daemon_bin());
    serve
        .args(["serve", "--once", "--accel", "tcg", "--socket-path"])
        .arg(&socket)
        .arg("--root")
        .arg(programs::dir())
        .arg("--run-dir")
        .arg(d.join("run"))
        .env("RUST_LOG", "info");
    let program = programs::program("probe");
    // The daemon must be listening before QEMU connects.
    let daemon = std::thread::spawn(move || run_with_deadline(serve, LIMIT));
    let until = Instant::now() + LIMIT;
    while !socket.exists() {
        assert!(
            Instant::now() < until,
            "daemon never created {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut qemu = Group::spawn(qemu_by_hand(&socket, &program, &serial, machine, device));
    let qemu_err = qemu.child.stderr.take().unwrap();
    let qemu_err =
        std::thread::spawn(move || std::io::read_to_string(qemu_err).unwrap_or_default());
    let q = qemu.wait_deadline(LIMIT);
    let out = daemon.join().unwrap();
    let log = std::fs::read_to_string(&serial).unwrap_or_default();
    let qemu_err = qemu_err.join().unwrap_or_default();
    let out =
        out.unwrap_or_else(|| panic!("daemon did not exit; serial:\n{log}\nQEMU:\n{qemu_err}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        q.is_some(),
        "QEMU did not finish\nserial:\n{log}\nQEMU:\n{qemu_err}\ndaemon:\n{stderr}"
    );
    let acked = stderr
        .lines()
        .find_map(|l| l.split("driver acked features ").nth(1))
        .unwrap_or_else(|| panic!("no feature negotiation in the daemon log:\n{stderr}"));
    let bits = u64::from_str_radix(acked.trim().trim_start_matches("0x"), 16).unwrap();
    assert_ne!(bits & (1 << 32), 0, "VIRTIO_F_VERSION_1 negotiated");
    assert_ne!(
        bits & (1 << virtio_pipe_protocol::FEATURE_SPAWN),
        0,
        "VIRTIO_PIPE_F_SPAWN negotiated"
    );
    // `probe` with no mode prints its complaint and exits 64: both reach the host.
    assert!(stdout.contains("probe: unknown mode"), "stdout: {stdout:?}");
    assert_eq!(out.status.code(), Some(64), "stderr:\n{stderr}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn stock_qemu_attaches_over_virtio_mmio_on_microvm_and_negotiates_features() {
    attach(
        "mmio",
        "microvm,memory-backend=mem,pit=on,pic=on,rtc=on,isa-serial=on",
        &[
            "-bios",
            "/usr/share/qemu/qboot.rom",
            "-device",
            "vhost-user-gpio-device,chardev=vpipe",
            "-global",
            "virtio-mmio.force-legacy=false",
        ],
    );
}

#[test]
fn stock_qemu_attaches_over_virtio_pci_on_q35_and_negotiates_features() {
    attach(
        "pci",
        "q35,memory-backend=mem",
        &["-device", "vhost-user-gpio-pci,chardev=vpipe"],
    );
}
