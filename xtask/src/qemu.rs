//! Finding (or installing) QEMU and running it with a time-out.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::protocol::{self, QemuEnd, Step, KERNEL_LOG_PREFIX, PANIC_MARKER};
use crate::workspace::Arch;

pub const QEMU: &str = "qemu-system-riscv64";

/// The QEMU program of `arch`.
pub fn qemu_program(arch: Arch) -> &'static str {
    match arch {
        Arch::Riscv64 => QEMU,
        Arch::Aarch64 => "qemu-system-aarch64",
    }
}

/// The Debian package with [`qemu_program`]`(arch)`.
pub fn qemu_package(arch: Arch) -> &'static str {
    match arch {
        Arch::Riscv64 => "qemu-system-misc",
        Arch::Aarch64 => "qemu-system-arm",
    }
}

/// The machine every command boots for `arch`, with `kernel` and the root task as `-initrd`.
pub fn args_for(arch: Arch, kernel: &Path, root_task: &Path) -> Vec<String> {
    match arch {
        Arch::Riscv64 => base_args(kernel, root_task),
        Arch::Aarch64 => aarch64_args(kernel, root_task),
    }
}

/// The aarch64 machine: seL4's `qemu-arm-virt` as its `simulate` runs it (`-machine virt -cpu
/// cortex-a53`), with the GIC version and the 1 GiB of RAM seL4 builds its device tree for
/// made explicit; the kernel as a Linux `Image` (QEMU then passes the device tree in x0 and
/// the initrd in it); semihosting on, so that the kernel can exit with a failure status.
pub fn aarch64_args(kernel: &Path, root_task: &Path) -> Vec<String> {
    let mut a = aarch64_machine_args();
    a.push("-kernel".into());
    a.push(kernel.display().to_string());
    a.push("-initrd".into());
    a.push(root_task.display().to_string());
    a
}

/// The aarch64 machine of [`aarch64_args`], without a payload.
pub fn aarch64_machine_args() -> Vec<String> {
    [
        "-machine",
        "virt,gic-version=2",
        "-cpu",
        "cortex-a53",
        "-m",
        "1G",
        "-smp",
        "1",
        "-nographic",
        "-serial",
        "mon:stdio",
        "-semihosting-config",
        "enable=on,target=native",
        // No network card (its option ROM is not installed with `--no-install-recommends`).
        "-nic",
        "none",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Writes to `out` the device tree of the aarch64 machine ([`aarch64_args`]) as QEMU makes it
/// (`-machine ...,dumpdtb=`), packed: its `totalsize` cut down to the blocks it uses (QEMU's
/// blob is 1 MiB, nearly all free space). For `-dtb`: seL4's elfloader hands seL4 the device
/// tree seL4's build compiled with `dtc` (about 8 KiB; its root task gets a copy in BootInfo,
/// `seL4_BootInfoFrame` FDT extra), and sel4test's driver copies that into its 1 MiB heap
/// (`sel4platsupport_new_fdt_ops`), which QEMU's own 1 MiB blob does not fit. QEMU opens the
/// blob given with `-dtb` with some room and adds `/chosen` (initrd) and `/memory` to it.
pub fn write_aarch64_packed_dtb(qemu: &Path, out: &Path) -> Result<()> {
    let raw = out.with_extension("full.dtb");
    let mut args = aarch64_args(Path::new("-"), Path::new("-"));
    let k = args
        .iter()
        .position(|a| a == "-kernel")
        .context("no -kernel")?;
    args.truncate(k);
    let m = args
        .iter()
        .position(|a| a == "-machine")
        .context("no -machine")?
        + 1;
    args[m] = format!("{},dumpdtb={}", args[m], raw.display());
    let status = Command::new(qemu)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("running {}", qemu.display()))?;
    if !status.success() {
        bail!("{} {} failed: {status}", qemu.display(), args.join(" "));
    }
    let blob = std::fs::read(&raw).with_context(|| format!("reading {}", raw.display()))?;
    let packed = pack_fdt(&blob)?;
    std::fs::write(out, packed).with_context(|| format!("writing {}", out.display()))?;
    let _ = std::fs::remove_file(&raw);
    Ok(())
}

/// A flattened device tree (Devicetree Specification v0.4, 5.2) with `totalsize` set to the end
/// of the last block it uses (the memory reservation map up to its terminating entry, the
/// structure block, the strings block) and the free space after it dropped. The blocks stay
/// where they are.
pub fn pack_fdt(blob: &[u8]) -> Result<Vec<u8>> {
    let word = |i: usize| -> Result<usize> {
        let b = blob
            .get(i * 4..i * 4 + 4)
            .context("device tree shorter than its header")?;
        Ok(u32::from_be_bytes(b.try_into().unwrap()) as usize)
    };
    if word(0)? != 0xd00d_feed {
        bail!("not a flattened device tree (bad magic)");
    }
    let total = word(1)?;
    let (off_struct, off_strings, off_rsv) = (word(2)?, word(3)?, word(4)?);
    let (size_strings, size_struct) = (word(8)?, word(9)?);
    // The reservation map: 16-byte (address, size) entries up to an all-zero one.
    let mut rsv_end = off_rsv;
    loop {
        let e = blob
            .get(rsv_end..rsv_end + 16)
            .context("memory reservation map runs off the blob")?;
        rsv_end += 16;
        if e.iter().all(|&b| b == 0) {
            break;
        }
    }
    let end = rsv_end
        .max(off_struct + size_struct)
        .max(off_strings + size_strings)
        .max(40);
    if end > total || total > blob.len() {
        bail!("device tree blocks end at {end:#x}, past its totalsize {total:#x} or the file");
    }
    let mut out = blob[..end].to_vec();
    out[4..8].copy_from_slice(&(end as u32).to_be_bytes());
    Ok(out)
}

/// The machine every command boots (`-bios default` is OpenSBI), without a payload.
pub fn machine_args() -> Vec<String> {
    [
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
    .collect()
}

/// The machine booting one image (`-kernel`): the loader's (kernel and root task in one
/// file, entered with seL4's boot protocol).
pub fn image_args(image: &Path) -> Vec<String> {
    let mut a = machine_args();
    a.push("-kernel".into());
    a.push(image.display().to_string());
    a
}

/// The machine of `arch` booting one image (`-kernel`): the loader's. On aarch64 QEMU loads
/// the loader's ELF at its addresses, enters it at EL1 with the MMU off and puts the device
/// tree at the base of RAM (a bare-metal ELF, not a Linux `Image`).
pub fn image_args_for(arch: Arch, image: &Path) -> Vec<String> {
    match arch {
        Arch::Riscv64 => image_args(image),
        Arch::Aarch64 => {
            let mut a = aarch64_machine_args();
            a.push("-kernel".into());
            a.push(image.display().to_string());
            a
        }
    }
}

/// [`image_args_for`] with `-m <memory>` instead of the machine's default (Microkit's QEMU
/// lines have `-m 2G`).
pub fn image_args_with_memory(arch: Arch, image: &Path, memory: &str) -> Vec<String> {
    let mut a = image_args_for(arch, image);
    if let Some(i) = a.iter().position(|x| x == "-m") {
        a[i + 1] = memory.to_string();
    }
    a
}

/// The machine booting the kernel with the root task as its initrd (a firmware boot).
pub fn base_args(kernel: &Path, root_task: &Path) -> Vec<String> {
    let mut a = machine_args();
    a.push("-kernel".into());
    a.push(kernel.display().to_string());
    a.push("-initrd".into());
    a.push(root_task.display().to_string());
    a
}

/// QEMU's gdb stub on tcp::1234 (`-s`), the CPU stopped until gdb continues it (`-S`).
pub const GDB_ARGS: [&str; 2] = ["-s", "-S"];

/// Deterministic instruction counting, for tests and benchmarks.
pub const ICOUNT_ARGS: [&str; 2] = ["-icount", "shift=0,sleep=off"];

/// Instruction counting, but guest time runs on with the host's while the guest idles (instead
/// of jumping to its next timer), for runs that are typed into: the guest then waits for the
/// typist in real time, as for a person.
pub const ICOUNT_SLEEP_ARGS: [&str; 2] = ["-icount", "shift=0,sleep=on"];

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
    ensure_qemu_for(Arch::Riscv64)
}

/// What to run to install QEMU for `arch`.
fn how_to_install(arch: Arch) -> String {
    match arch {
        Arch::Riscv64 => HOW_TO_INSTALL.to_string(),
        Arch::Aarch64 => HOW_TO_INSTALL
            .replace(
                "qemu-system-riscv64 (with OpenSBI for `-bios default`)",
                "qemu-system-aarch64",
            )
            .replace("qemu-system-misc opensbi", "qemu-system-arm")
            .replace("qemu-system-misc", "qemu-system-arm")
            .replace("qemu-system-riscv", "qemu-system-aarch64"),
    }
}

/// [`ensure_qemu`] for `arch` (`qemu-system-aarch64` comes in Debian's `qemu-system-arm`).
pub fn ensure_qemu_for(arch: Arch) -> Result<PathBuf> {
    let program = qemu_program(arch);
    let package = qemu_package(arch);
    if let Some(p) = find_in_path(program) {
        return Ok(p);
    }
    let (id, codename) = os_release();
    let root = is_root();
    eprintln!("xtask: {program} is not on PATH (os: {id} {codename}, root: {root})");
    match (root, id.as_str(), codename.as_str()) {
        (true, "debian", "bookworm") => {
            eprintln!("xtask: installing QEMU from bookworm-backports (temporary sources list, /etc untouched)");
            run_shell(&format!(
                r#"d=$(mktemp -d); mkdir -p "$d/parts"
printf 'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-updates main\ndeb http://deb.debian.org/debian bookworm-backports main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' > "$d/sources.list"
O="-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=$d/parts"
apt-get $O update && apt-get $O install -y --no-install-recommends -t bookworm-backports {package}
rm -rf "$d""#
            ))?;
        }
        (true, "debian" | "ubuntu", _) => {
            eprintln!("xtask: installing QEMU with apt-get");
            let extra = if arch == Arch::Riscv64 {
                " opensbi"
            } else {
                ""
            };
            run_shell(&format!(
                "apt-get update && apt-get install -y --no-install-recommends {package}{extra}"
            ))?;
        }
        _ => bail!("{program} not found on PATH.\n{}", how_to_install(arch)),
    }
    find_in_path(program).with_context(|| {
        format!(
            "{program} still not on PATH after installing.\n{}",
            how_to_install(arch)
        )
    })
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

/// What our stdin is, which decides how QEMU gets its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A terminal: QEMU reads it itself (and puts it in raw mode).
    Terminal,
    /// A pipe or a file: held back until the guest is ready ([`InputGate`]), then forwarded.
    Piped,
    /// No stdin at all (CI): QEMU gets /dev/null.
    Closed,
}

fn input_kind() -> Input {
    if !stdin_is_open() {
        Input::Closed
    } else if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        Input::Terminal
    } else {
        Input::Piped
    }
}

/// Decides when piped input may go to the guest. Bytes that reach the UART before the firmware
/// (OpenSBI) has set it up are dropped by that set-up, so input is held back until the root
/// task runs: until the first line of serial output that is not empty and not a kernel log line
/// (`[kernel ...`) and comes after at least one kernel log line, i.e. the root task's first
/// line (the demo's `seL4 demo root task`). Kernels that print no boot lines (`--log-level
/// error`) and root tasks that print nothing are covered by a fallback: [`INPUT_QUIET`] of
/// silence after some output (see [`run_attached`]).
#[derive(Debug, Default, Clone)]
pub struct InputGate {
    seen_kernel_line: bool,
    open: bool,
}

impl InputGate {
    /// Feed one line of serial output (without its line end); returns whether input may now
    /// be forwarded.
    pub fn line(&mut self, line: &str) -> bool {
        if !self.open {
            let l = line.trim();
            if l.starts_with(KERNEL_LOG_PREFIX) {
                self.seen_kernel_line = true;
            } else if self.seen_kernel_line && !l.is_empty() {
                self.open = true;
            }
        }
        self.open
    }

    pub fn is_open(&self) -> bool {
        self.open
    }
}

/// Piped input is also forwarded once QEMU has printed something and then nothing for this long
/// (the firmware has then set up the UART, since it printed through it).
pub const INPUT_QUIET: Duration = Duration::from_secs(2);

/// Splits a byte stream into lines: complete lines without `\n` and a trailing `\r`.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, data: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &b in data {
            if b == b'\n' {
                let mut l = std::mem::take(&mut self.partial);
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                lines.push(String::from_utf8_lossy(&l).into_owned());
            } else {
                self.partial.push(b);
            }
        }
        lines
    }
}

/// `--until REGEX`: whether a line of serial output (without its line end) ends the run.
pub fn until_matches(re: &regex::Regex, line: &str) -> bool {
    re.is_match(line)
}

/// How an attached run ([`run_attached`]) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachedEnd {
    Qemu(QemuEnd),
    /// A line matched `--until`; QEMU was stopped.
    Matched(String),
}

/// Options of [`run_attached`].
#[derive(Debug, Default)]
pub struct Attached {
    /// `None`: wait for ever.
    pub timeout: Option<Duration>,
    /// Stop QEMU when a line of serial output matches this.
    pub until: Option<regex::Regex>,
    /// Do not echo the output we watch (for tests).
    pub silent: bool,
}

/// Where QEMU's input comes from in [`run_attached_with`].
pub enum InputSource {
    Terminal,
    Closed,
    /// Held back by an [`InputGate`], then forwarded.
    Piped(Box<dyn Read + Send>),
}

/// State shared with the threads of an attached run.
#[derive(Default)]
struct AttachedShared {
    input_open: AtomicBool,
    /// QEMU has ended: the input forwarder stops waiting.
    done: AtomicBool,
    matched: Mutex<Option<String>>,
    last_output: Mutex<Option<Instant>>,
}

/// Echo QEMU's serial output, open the input gate and look for the `--until` line.
fn pump_attached(
    mut from: impl Read,
    until: Option<regex::Regex>,
    silent: bool,
    shared: Arc<AttachedShared>,
) {
    let mut chunk = [0u8; 4096];
    let mut lines = LineSplitter::default();
    let mut gate = InputGate::default();
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if !silent {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(&chunk[..n]);
            let _ = o.flush();
        }
        *shared.last_output.lock().unwrap() = Some(Instant::now());
        for l in lines.push(&chunk[..n]) {
            if !gate.is_open() && gate.line(&l) {
                shared.input_open.store(true, Ordering::SeqCst);
            }
            if let Some(re) = &until {
                if until_matches(re, &l) {
                    shared.matched.lock().unwrap().get_or_insert(l);
                }
            }
        }
    }
}

/// Read our stdin as it comes and hand it to QEMU once the gate is open; at the end of our
/// input, close QEMU's (as a plain pipe into QEMU would).
fn forward_input(
    mut from: Box<dyn Read + Send>,
    mut to: std::process::ChildStdin,
    shared: Arc<AttachedShared>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    thread::spawn(move || {
        while !shared.input_open.load(Ordering::SeqCst) {
            if shared.done.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        for chunk in rx {
            if to.write_all(&chunk).and_then(|()| to.flush()).is_err() {
                return;
            }
        }
    });
}

/// Boot QEMU attached to our terminal or pipes: its stderr is ours; its stdin is ours if that
/// is a terminal, /dev/null if we have none, and otherwise (piped input) forwarded by us once
/// the guest is ready for it ([`InputGate`]). Its output is ours, or echoed by us when we must
/// watch it (piped input, `--until`).
pub fn run_attached(qemu: &Path, args: &[String], opts: Attached) -> Result<AttachedEnd> {
    print_command(qemu, args);
    let input = match input_kind() {
        Input::Terminal => InputSource::Terminal,
        Input::Closed => InputSource::Closed,
        Input::Piped => InputSource::Piped(Box::new(std::io::stdin())),
    };
    run_attached_with(qemu, args, opts, input)
}

/// [`run_attached`] with the input given.
pub fn run_attached_with(
    qemu: &Path,
    args: &[String],
    opts: Attached,
    input: InputSource,
) -> Result<AttachedEnd> {
    let watch_output = matches!(input, InputSource::Piped(_)) || opts.until.is_some();
    let mut cmd = Command::new(qemu);
    cmd.args(args);
    let mut piped_input = None;
    match input {
        InputSource::Terminal => {}
        InputSource::Piped(from) => {
            cmd.stdin(Stdio::piped());
            piped_input = Some(from);
        }
        InputSource::Closed => {
            cmd.stdin(Stdio::null());
        }
    }
    if watch_output {
        cmd.stdout(Stdio::piped());
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", qemu.display()))?;
    let shared = Arc::new(AttachedShared::default());
    if let (Some(from), Some(to)) = (piped_input, child.stdin.take()) {
        forward_input(from, to, shared.clone());
    }
    let pump = child.stdout.take().map(|out| {
        let (until, shared) = (opts.until.clone(), shared.clone());
        thread::spawn(move || pump_attached(out, until, opts.silent, shared))
    });
    let start = Instant::now();
    let end = loop {
        if let Some(status) = child.try_wait()? {
            break AttachedEnd::Qemu(end_of(status));
        }
        if let Some(line) = shared.matched.lock().unwrap().clone() {
            stop(&mut child);
            break AttachedEnd::Matched(line);
        }
        if let Some(t) = opts.timeout {
            if start.elapsed() >= t {
                stop(&mut child);
                break AttachedEnd::Qemu(QemuEnd::Killed(format!(
                    "QEMU timed out after {} s and was killed (raise the limit with --timeout SECS, 0 = none)",
                    t.as_secs()
                )));
            }
        }
        let quiet = shared
            .last_output
            .lock()
            .unwrap()
            .is_some_and(|t| t.elapsed() >= INPUT_QUIET);
        if quiet {
            shared.input_open.store(true, Ordering::SeqCst);
        }
        thread::sleep(Duration::from_millis(20));
    };
    shared.done.store(true, Ordering::SeqCst);
    // Let the pump echo what is left; not for ever (a child of QEMU could hold the pipe open).
    if let Some(p) = pump {
        let t = Instant::now();
        while !p.is_finished() && t.elapsed() < Duration::from_secs(2) {
            thread::sleep(Duration::from_millis(10));
        }
        if p.is_finished() {
            let _ = p.join();
        }
    }
    // A line QEMU printed just before it exited by itself still counts.
    if let (AttachedEnd::Qemu(_), Some(line)) = (&end, shared.matched.lock().unwrap().clone()) {
        return Ok(AttachedEnd::Matched(line));
    }
    Ok(end)
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
    /// QEMU has ended: the typist stops.
    done: AtomicBool,
    /// Stop QEMU once a line contains this ([`run_captured`]'s `stop_at`).
    stop_at: Option<&'static str>,
    /// A line contained `stop_at`.
    stop_seen: AtomicBool,
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
            if watch.stop_at.is_some_and(|m| l.contains(m)) {
                watch.stop_seen.store(true, Ordering::SeqCst);
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

/// Type `script` into QEMU's stdin, each step once the output shows what it waits for
/// ([`protocol::script_progress`]); close it after the last step, or when QEMU has ended.
fn type_script(mut to: std::process::ChildStdin, script: &'static [Step], watch: Arc<Watch>) {
    let mut sent = 0;
    while sent < script.len() && !watch.done.load(Ordering::SeqCst) {
        let ready = {
            let out = watch.out.lock().unwrap();
            protocol::script_progress(&String::from_utf8_lossy(&out), script).0
        };
        while sent < ready {
            if to
                .write_all(script[sent].send.as_bytes())
                .and_then(|()| to.flush())
                .is_err()
            {
                return;
            }
            sent += 1;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Boot QEMU, echo its output to the terminal as it arrives, keep it, and write it to `log`.
/// Its stdin is empty, or with `script` the steps typed as the output asks for them
/// ([`type_script`]). Killed after `timeout`, or shortly after a `KERNEL PANIC` line, or if it
/// does not exit soon after a `SUMMARY` line, or (`stop_at`) as soon as a line contains that
/// text (the end is then `Killed`, saying so).
pub fn run_captured(
    qemu: &Path,
    args: &[String],
    timeout: Duration,
    log: &Path,
    script: Option<&'static [Step]>,
    stop_at: Option<&'static str>,
) -> Result<Captured> {
    print_command(qemu, args);
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let logf = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let logf = Arc::new(Mutex::new(logf));
    let watch = Arc::new(Watch {
        stop_at,
        ..Watch::default()
    });
    let start = Instant::now();
    let mut child = Command::new(qemu)
        .args(args)
        .stdin(if script.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", qemu.display()))?;
    let typist = match (script, child.stdin.take()) {
        (Some(s), Some(to)) => {
            let w = watch.clone();
            Some(thread::spawn(move || type_script(to, s, w)))
        }
        _ => None,
    };
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
        if watch.stop_seen.load(Ordering::SeqCst) {
            stop(&mut child);
            break QemuEnd::Killed(format!(
                "stopped after the line with {:?}",
                stop_at.unwrap_or_default()
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
    watch.done.store(true, Ordering::SeqCst);
    for r in readers {
        let _ = r.join();
    }
    if let Some(t) = typist {
        let _ = t.join();
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

    /// A blob laid out as QEMU's: header, reservation map (one entry), structure, strings,
    /// then free space up to a large `totalsize`.
    fn padded_fdt() -> Vec<u8> {
        let (rsv, st, st_len, strs, strs_len, total) = (40, 72, 24, 96, 10, 4096);
        let mut b = vec![0u8; total];
        for (i, w) in [
            0xd00d_feed,
            total,
            st,
            strs,
            rsv,
            17,
            16,
            0,
            strs_len,
            st_len,
        ]
        .into_iter()
        .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&(w as u32).to_be_bytes());
        }
        b[rsv..rsv + 16].copy_from_slice(&[1; 16]);
        b[st..st + st_len].fill(7);
        b[strs..strs + strs_len].fill(b'a');
        b
    }

    #[test]
    fn pack_fdt_cuts_the_free_space() {
        let b = padded_fdt();
        let p = pack_fdt(&b).unwrap();
        assert_eq!(p.len(), 106);
        assert_eq!(&p[4..8], &106u32.to_be_bytes());
        assert_eq!(&p[8..], &b[8..106]);
        // Packing again changes nothing.
        assert_eq!(pack_fdt(&p).unwrap(), p);
        let mut bad = b.clone();
        bad[0] = 0;
        assert!(pack_fdt(&bad).is_err());
        // A strings block past totalsize is refused.
        let mut short = b.clone();
        short[4..8].copy_from_slice(&100u32.to_be_bytes());
        assert!(pack_fdt(&short).is_err());
        assert!(pack_fdt(&b[..20]).is_err());
    }

    /// The demo's boot, as QEMU prints it.
    const BOOT: &str = "\r\nOpenSBI v1.5\r\nPlatform Name             : riscv-virtio,qemu\r\n\r\n\
        Boot HART MEDELEG         : 0x0000000000f0b509\r\n\
        [kernel INFO] seL4-compatible kernel (riscv64) booting\n\
        [kernel INFO]   timebase       10000000 Hz\n\
        [kernel INFO] root task created: entry 0x400000\n\
        \n\
        seL4 demo root task\n\
        BootInfo:\n";

    /// Feed `text` through a splitter and a gate; the line at which the gate opened.
    fn gate_opens_at(text: &str) -> Option<String> {
        let mut g = InputGate::default();
        let mut split = LineSplitter::default();
        // Byte by byte: lines may arrive in any pieces.
        for b in text.as_bytes() {
            for l in split.push(std::slice::from_ref(b)) {
                if g.line(&l) {
                    return Some(l);
                }
            }
        }
        None
    }

    #[test]
    fn input_gate_opens_at_the_root_tasks_first_line() {
        assert_eq!(gate_opens_at(BOOT).as_deref(), Some("seL4 demo root task"));
        // Firmware lines alone, and kernel lines alone, do not open it.
        let firmware_only: String = BOOT.split("[kernel").next().unwrap().into();
        assert_eq!(gate_opens_at(&firmware_only), None);
        let no_task = BOOT.split("\n\nseL4").next().unwrap().to_string() + "\n\n";
        assert_eq!(gate_opens_at(&no_task), None);
        // An unfinished line does not count yet.
        let unfinished = BOOT.trim_end_matches("BootInfo:\n").trim_end_matches('\n');
        assert_eq!(gate_opens_at(unfinished), None);
        // Kernel lines of other levels count as kernel lines; once open, it stays open.
        let mut g = InputGate::default();
        assert!(!g.line("[kernel WARN] x"));
        assert!(!g.line("   "));
        assert!(g.line("hello from a root task"));
        assert!(g.line("[kernel INFO] y"));
        assert!(g.is_open());
    }

    /// A fake QEMU (a shell script) that prints `boot`, then reports whether input has already
    /// arrived, prints `after`, then echoes the line it reads.
    fn fake_qemu(name: &str, boot: &str, after: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-fake-qemu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let script = format!(
            "#!/bin/bash\nprintf '{boot}'\nsleep 0.5\n\
             if read -t 0.2 early; then echo \"EARLY: $early\"; fi\n\
             printf '{after}'\nread -r line\necho \"got: $line\"\nsleep 30\n"
        );
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn run_fake(qemu: &Path) -> AttachedEnd {
        let opts = Attached {
            timeout: Some(Duration::from_secs(20)),
            until: Some(regex::Regex::new("^(got|EARLY): ").unwrap()),
            silent: true,
        };
        let input = InputSource::Piped(Box::new(std::io::Cursor::new(b"hello\n".to_vec())));
        let end = run_attached_with(qemu, &[], opts, input).unwrap();
        let _ = std::fs::remove_file(qemu);
        end
    }

    /// Piped input reaches QEMU only after the root task's first line, and `--until` stops QEMU
    /// (the fake would sleep 30 s).
    #[test]
    fn piped_input_waits_for_the_root_task() {
        let qemu = fake_qemu(
            "gate",
            "OpenSBI v1.5\\r\\n[kernel INFO] booting\\n",
            "\\nroot task\\n",
        );
        let t = Instant::now();
        assert_eq!(run_fake(&qemu), AttachedEnd::Matched("got: hello".into()));
        assert!(t.elapsed() < Duration::from_secs(15));
    }

    /// Without kernel lines the input goes after [`INPUT_QUIET`] of silence.
    #[test]
    fn piped_input_goes_after_a_quiet_time() {
        let qemu = fake_qemu("quiet", "OpenSBI v1.5\\r\\n", "");
        let t = Instant::now();
        assert_eq!(run_fake(&qemu), AttachedEnd::Matched("got: hello".into()));
        assert!(t.elapsed() >= INPUT_QUIET);
        assert!(t.elapsed() < Duration::from_secs(15));
    }

    #[test]
    fn line_splitting() {
        let mut s = LineSplitter::default();
        assert!(s.push(b"ab").is_empty());
        assert_eq!(s.push(b"c\r\nde\n\nf"), ["abc", "de", ""]);
        assert_eq!(s.push(b"\r\n"), ["f"]);
        assert_eq!(s.push(b"\xff\n"), ["\u{fffd}"]);
    }

    #[test]
    fn until_lines() {
        let re = regex::Regex::new("DEMO OK").unwrap();
        assert!(until_matches(&re, "DEMO OK"));
        assert!(until_matches(&re, "  root: DEMO OK?"));
        assert!(!until_matches(&re, "DEMO FAILED"));
        let re = regex::Regex::new("^All is well in the universe$").unwrap();
        let mut split = LineSplitter::default();
        let lines = split.push(b"Test suite passed.\r\nAll is well in the universe\r\n");
        assert!(!until_matches(&re, &lines[0]));
        assert!(
            until_matches(&re, &lines[1]),
            "the \\r is not part of the line"
        );
        assert!(!until_matches(&re, "  All is well in the universe"));
    }

    #[test]
    fn last_lines() {
        assert!(is_last_line("SUMMARY 3 passed, 0 failed\r"));
        assert!(is_last_line("  BENCH_DONE \r"));
        assert!(!is_last_line("BENCH_DONE?"));
        assert!(!is_last_line("BENCH {\"name\":\"x\"}"));
        assert!(!is_last_line("SUMMARYX"));
    }
}
