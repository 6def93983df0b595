//! std::process::Command with piped stdio (glibc's posix_spawn: clone3 with
//! CLONE_VM | CLONE_VFORK, then exec).
use std::io::{Read, Write};
use std::process::{Command, Stdio};

fn main() {
    let mut child = Command::new("/bin/busybox")
        .args(["tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello from rust\n")
        .unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let status = child.wait().unwrap();
    print!("child said: {out}");
    println!("child status: {:?}", status.code());
    let out = Command::new("/bin/busybox").args(["echo", "output"]).output().unwrap();
    print!("output(): {}", String::from_utf8_lossy(&out.stdout));
    match Command::new("/no/such").spawn() {
        Err(e) => println!("missing program: {:?}", e.kind()),
        Ok(_) => println!("missing program spawned?"),
    }
}
