//! Finding (or installing) QEMU and running it with a time-out.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::protocol::{QemuEnd, PANIC_MARKER};

pub const QEMU: &str = "qemu-system-riscv64";

/// The machine every command boots. `-bios default` is OpenSBI.
pub fn base_args(kernel: &Path, root_task: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "-machine",
        "virt",
        "-cpu",
        "rv64",
        "-m",
        "3G",
        "-smp",
        "1",
        "-bios",
        "default",
        "-nographic",
        "-serial",
        "mon:stdio",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push("-kernel".into());
    a.push(kernel.display().to_string());
    a.push("-initrd".into());
    a.push(root_task.display().to_string());
    a
}

/// Deterministic instruction counting, for tests and benchmarks.
pub const ICOUNT_ARGS: [&str; 2] = ["-icount", "shift=0,sleep=off"];

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

fn os_release() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    (field("ID"), field("VERSION_CODENAME"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

const HOW_TO_INSTALL: &str = "\
qemu-system-riscv64 (with OpenSBI for `-bios default`) is needed. Install it with:
  Debian 12 (as root; Debian's own 7.2 conflicts with a newer qemu-utils, so use bookworm-backports):
    d=$(mktemp -d); mkdir -p $d/parts
    printf 'deb http://deb.debian.org/debian bookworm main\\ndeb http://deb.debian.org/debian bookworm-updates main\\ndeb http://deb.debian.org/debian bookworm-backports main\\ndeb http://deb.debian.org/debian-security bookworm-security main\\n' > $d/sources.list
    O=\"-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=$d/parts\"
    apt-get $O update && apt-get $O install -y --no-install-recommends -t bookworm-backports qemu-system-misc
  Debian (other releases) / Ubuntu:
    sudo apt-get install --no-install-recommends qemu-system-misc opensbi
  Fedora: sudo dnf install qemu-system-riscv
  Arch:   sudo pacman -S qemu-system-riscv
  macOS:  brew install qemu
(`cargo xtask` installs it by itself when run as root on Debian or Ubuntu.)";

fn run_shell(script: &str) -> Result<()> {
    eprintln!("xtask: $ {script}");
    let status = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .status()
        .context("running bash")?;
    if !status.success() {
        bail!("installing QEMU failed ({status})");
    }
    Ok(())
}

/// Return the path of `qemu-system-riscv64`, installing it first when it is
/// missing and we are root on Debian or Ubuntu; otherwise fail with
/// instructions.
pub fn ensure_qemu() -> Result<PathBuf> {
    if let Some(p) = find_in_path(QEMU) {
        return Ok(p);
    }
    let (id, codename) = os_release();
    let root = is_root();
    eprintln!("xtask: {QEMU} is not on PATH (os: {id} {codename}, root: {root})");
    match (root, id.as_str(), codename.as_str()) {
        (true, "debian", "bookworm") => {
            eprintln!("xtask: installing QEMU from bookworm-backports (temporary sources list, /etc untouched)");
            run_shell(
                r#"d=$(mktemp -d); mkdir -p "$d/parts"
printf 'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-updates main\ndeb http://deb.debian.org/debian bookworm-backports main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' > "$d/sources.list"
O="-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=$d/parts"
apt-get $O update && apt-get $O install -y --no-install-recommends -t bookworm-backports qemu-system-misc
rm -rf "$d""#,
            )?;
        }
        (true, "debian" | "ubuntu", _) => {
            eprintln!("xtask: installing QEMU with apt-get");
            run_shell("apt-get update && apt-get install -y --no-install-recommends qemu-system-misc opensbi")?;
        }
        _ => bail!("{QEMU} not found on PATH.\n{HOW_TO_INSTALL}"),
    }
    find_in_path(QEMU)
        .with_context(|| format!("{QEMU} still not on PATH after installing.\n{HOW_TO_INSTALL}"))
}

/// Ask a process to stop (SIGTERM, so QEMU restores the terminal), then
/// kill it if it has not gone after a few seconds.
fn stop(child: &mut Child) {
    // SAFETY: kill(2) on the pid of a child we have not reaped yet.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn end_of(status: ExitStatus) -> QemuEnd {
    QemuEnd::Exited(status.code())
}

fn print_command(qemu: &Path, args: &[String]) {
    eprintln!("xtask: $ {} {}", qemu.display(), args.join(" "));
}

/// Whether file descriptor 0 is open (CI may run us with no stdin at all).
fn stdin_is_open() -> bool {
    // SAFETY: F_GETFD only queries the descriptor.
    unsafe { libc::fcntl(0, libc::F_GETFD) != -1 }
}

/// Boot QEMU with the terminal attached (stdin, stdout and stderr inherited).
/// `timeout` of `None` waits forever.
pub fn run_interactive(qemu: &Path, args: &[String], timeout: Option<Duration>) -> Result<QemuEnd> {
    print_command(qemu, args);
    let mut cmd = Command::new(qemu);
    cmd.args(args);
    if !stdin_is_open() {
        cmd.stdin(Stdio::null());
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", qemu.display()))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(end_of(status));
        }
        if let Some(t) = timeout {
            if start.elapsed() >= t {
                stop(&mut child);
                return Ok(QemuEnd::Killed(format!(
                    "QEMU timed out after {} s and was killed (raise the limit with --timeout SECS, 0 = none)",
                    t.as_secs()
                )));
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Result of a captured QEMU run.
pub struct Captured {
    pub end: QemuEnd,
    /// Everything QEMU wrote to stdout: the serial port.
    pub text: String,
    /// Everything QEMU wrote to stderr (its own messages).
    pub stderr: String,
    pub elapsed: Duration,
}

/// State shared with the threads that read QEMU's output.
#[derive(Default)]
struct Watch {
    out: Mutex<Vec<u8>>,
    err: Mutex<Vec<u8>>,
    panic_at: Mutex<Option<Instant>>,
    summary_at: Mutex<Option<Instant>>,
}

fn pump(mut from: impl Read, to_stdout: bool, log: Arc<Mutex<File>>, watch: Arc<Watch>) {
    let mut chunk = [0u8; 4096];
    let mut line = Vec::new();
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = &chunk[..n];
        if to_stdout {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(data);
            let _ = o.flush();
        } else {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(data);
        }
        let _ = log.lock().unwrap().write_all(data);
        let buf = if to_stdout { &watch.out } else { &watch.err };
        buf.lock().unwrap().extend_from_slice(data);
        for &b in data {
            if b != b'\n' {
                line.push(b);
                continue;
            }
            let l = String::from_utf8_lossy(&line);
            if l.contains(PANIC_MARKER) {
                watch
                    .panic_at
                    .lock()
                    .unwrap()
                    .get_or_insert_with(Instant::now);
            }
            if is_last_line(&l) {
                watch
                    .summary_at
                    .lock()
                    .unwrap()
                    .get_or_insert_with(Instant::now);
            }
            line.clear();
        }
    }
    let _ = log.lock().unwrap().flush();
}

/// Whether `line` is the last line a root task prints before it halts the machine: the test
/// root task's `SUMMARY`, the benchmark's `BENCH_DONE`.
fn is_last_line(line: &str) -> bool {
    let l = line.trim();
    l.starts_with("SUMMARY ") || l == crate::bench::DONE_LINE
}

/// After a `KERNEL PANIC` line QEMU gets this long before it is killed.
const PANIC_GRACE: Duration = Duration::from_secs(3);
/// After the `SUMMARY` (or `BENCH_DONE`) line QEMU should exit by itself within this time.
const SUMMARY_GRACE: Duration = Duration::from_secs(15);

/// Boot QEMU with no stdin, echo its output to the terminal as it arrives,
/// keep it, and write it to `log`. Killed after `timeout`, or shortly after a
/// `KERNEL PANIC` line, or if it does not exit soon after a `SUMMARY` line.
pub fn run_captured(
    qemu: &Path,
    args: &[String],
    timeout: Duration,
    log: &Path,
) -> Result<Captured> {
    print_command(qemu, args);
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let logf = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let logf = Arc::new(Mutex::new(logf));
    let watch = Arc::new(Watch::default());
    let start = Instant::now();
    let mut child = Command::new(qemu)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", qemu.display()))?;
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let readers = [
        {
            let (l, w) = (logf.clone(), watch.clone());
            thread::spawn(move || pump(out, true, l, w))
        },
        {
            let (l, w) = (logf.clone(), watch.clone());
            thread::spawn(move || pump(err, false, l, w))
        },
    ];
    let end = loop {
        if let Some(status) = child.try_wait()? {
            break end_of(status);
        }
        let now = Instant::now();
        if now.duration_since(start) >= timeout {
            stop(&mut child);
            break QemuEnd::Killed(format!(
                "QEMU timed out after {} s and was killed (raise the limit with --timeout SECS)",
                timeout.as_secs()
            ));
        }
        if let Some(t) = *watch.panic_at.lock().unwrap() {
            if now.duration_since(t) >= PANIC_GRACE {
                stop(&mut child);
                break QemuEnd::Killed("QEMU was killed after the kernel panicked".into());
            }
        }
        if let Some(t) = *watch.summary_at.lock().unwrap() {
            if now.duration_since(t) >= SUMMARY_GRACE {
                stop(&mut child);
                break QemuEnd::Killed(format!(
                    "QEMU did not exit within {} s after the SUMMARY or BENCH_DONE line (the root task must halt the machine)",
                    SUMMARY_GRACE.as_secs()
                ));
            }
        }
        thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    for r in readers {
        let _ = r.join();
    }
    let text = String::from_utf8_lossy(&watch.out.lock().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&watch.err.lock().unwrap()).into_owned();
    // Make sure the next message starts on a fresh line.
    if !text.is_empty() && !text.ends_with('\n') {
        println!();
    }
    Ok(Captured {
        end,
        text,
        stderr,
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines() {
        assert!(is_last_line("SUMMARY 3 passed, 0 failed\r"));
        assert!(is_last_line("  BENCH_DONE \r"));
        assert!(!is_last_line("BENCH_DONE?"));
        assert!(!is_last_line("BENCH {\"name\":\"x\"}"));
        assert!(!is_last_line("SUMMARYX"));
    }
}
