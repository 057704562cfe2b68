//! The cargo workspace: where it is, what is in it, and building the kernel
//! and the root tasks for the target.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The target riscv64 kernels and root tasks are built for (the default architecture).
pub const TARGET: &str = "riscv64gc-unknown-none-elf";

/// The architecture a command builds for and boots (`--arch`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// RISC-V 64 on QEMU `virt` with OpenSBI (seL4's `qemu-riscv-virt`).
    #[default]
    Riscv64,
    /// AArch64 on QEMU `virt`, cortex-a53, GICv2 (seL4's `qemu-arm-virt`).
    Aarch64,
}

impl Arch {
    /// Its name, as `--arch` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Riscv64 => "riscv64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The target the kernel is built for. On aarch64 a target without floating point, so
    /// that the kernel never touches the FP/SIMD registers user threads own (seL4 builds with
    /// `-mgeneral-regs-only`).
    pub fn kernel_target(self) -> &'static str {
        match self {
            Arch::Riscv64 => TARGET,
            Arch::Aarch64 => "aarch64-unknown-none-softfloat",
        }
    }

    /// The target root tasks are built for.
    pub fn user_target(self) -> &'static str {
        match self {
            Arch::Riscv64 => TARGET,
            Arch::Aarch64 => "aarch64-unknown-none",
        }
    }

    /// Every Rust target a build for this architecture needs.
    pub fn targets(self) -> &'static [&'static str] {
        match self {
            Arch::Riscv64 => &[TARGET],
            Arch::Aarch64 => &["aarch64-unknown-none-softfloat", "aarch64-unknown-none"],
        }
    }

    /// Whether QEMU boots the kernel as a flat Linux arm64 `Image` cut out of the ELF
    /// ([`elf_to_flat_image`]) rather than as the ELF itself.
    pub fn boots_flat_image(self) -> bool {
        self == Arch::Aarch64
    }
}

/// The kernel package and binary.
pub const KERNEL_PACKAGE: &str = "kernel";
pub const KERNEL_BIN: &str = "kernel";

/// A user root task: a cargo package with one binary, booted as `-initrd`.
#[derive(Debug, Clone, Copy)]
pub struct RootTask {
    pub package: &'static str,
    pub bin: &'static str,
    /// Optional tasks are built by `cargo xtask build` only when the package
    /// exists in the workspace.
    pub optional: bool,
    /// Whether the package has an `mcs` feature (seL4's MCS configuration: built by
    /// `--mcs`, image `<bin>-mcs`).
    pub has_mcs: bool,
    /// The architectures it builds for.
    pub arches: &'static [Arch],
}

pub const DEMO: RootTask = RootTask {
    package: "demo",
    bin: "demo",
    optional: false,
    has_mcs: true,
    arches: &[Arch::Riscv64, Arch::Aarch64],
};
pub const TESTS: RootTask = RootTask {
    package: "roottask-tests",
    bin: "roottask-tests",
    optional: false,
    has_mcs: true,
    arches: &[Arch::Riscv64, Arch::Aarch64],
};
pub const BENCH: RootTask = RootTask {
    package: "bench",
    bin: "bench",
    optional: true,
    has_mcs: true,
    arches: &[Arch::Riscv64, Arch::Aarch64],
};
/// The smallest root task (`examples/hello`): the first one a new architecture boots.
pub const HELLO: RootTask = RootTask {
    package: "hello",
    bin: "hello",
    optional: false,
    has_mcs: true,
    arches: &[Arch::Riscv64, Arch::Aarch64],
};

/// The QEMU fuzzing root task (`cargo xtask fuzz --qemu`, tests/fuzz-roottask).
pub const FUZZ: RootTask = RootTask {
    package: "fuzz-roottask",
    bin: "fuzz-roottask",
    optional: true,
    has_mcs: true,
    arches: &[Arch::Riscv64],
};

/// Every root task `cargo xtask build` builds. Add new ones here.
pub const ROOT_TASKS: &[RootTask] = &[DEMO, TESTS, BENCH, HELLO, FUZZ];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Release,
    Debug,
}

impl Profile {
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// The kernel's log level, chosen at build time: the kernel build gets the environment
/// variable `KERNEL_LOG_LEVEL=<level>` (read with `option_env!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

/// The environment variable the kernel's build reads its log level from.
pub const LOG_LEVEL_VAR: &str = "KERNEL_LOG_LEVEL";

/// The kernel's `default` cargo features (kernel/Cargo.toml; a test checks they agree).
pub const KERNEL_DEFAULT_FEATURES: &[&str] = &["fastpath"];
/// The kernel feature every debug (dev profile) build has: seL4's CONFIG_DEBUG_BUILD.
pub const DEBUG_BUILD_FEATURE: &str = "debug_build";
/// The kernel feature for its console output after boot: seL4's CONFIG_PRINTING (implied by
/// [`DEBUG_BUILD_FEATURE`]). The stages whose judge reads the kernel's lines (the demo's "no
/// kernel warning", the fuzzer's reports of faults without a handler) build with it.
pub const PRINTING_FEATURE: &str = "printing";

/// One way of building the kernel: profile, cargo features, log level. Each configuration has
/// its own image file ([`KernelConfig::image_name`]), so that building one does not replace
/// another that something (QEMU, the README's command line) is about to boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    /// The architecture (not part of the name: each has its own image directory).
    pub arch: Arch,
    pub profile: Profile,
    /// Every cargo feature of the kernel package in this build (the defaults included).
    pub features: BTreeSet<String>,
    /// `None`: the kernel's own default (no `KERNEL_LOG_LEVEL`).
    pub log_level: Option<LogLevel>,
}

impl KernelConfig {
    /// The features a plain build with `profile` has: the kernel's defaults, and
    /// [`DEBUG_BUILD_FEATURE`] in debug builds.
    pub fn default_features(profile: Profile) -> BTreeSet<String> {
        let mut f: BTreeSet<String> = KERNEL_DEFAULT_FEATURES
            .iter()
            .map(|s| s.to_string())
            .collect();
        if profile == Profile::Debug {
            f.insert(DEBUG_BUILD_FEATURE.to_string());
        }
        f
    }

    /// The default configuration of `profile`.
    pub fn new(profile: Profile) -> Self {
        KernelConfig {
            arch: Arch::Riscv64,
            profile,
            features: Self::default_features(profile),
            log_level: None,
        }
    }

    /// The same configuration for `arch`.
    pub fn arch(mut self, arch: Arch) -> Self {
        self.arch = arch;
        self
    }

    /// Turn `feature` on or off.
    pub fn feature(mut self, feature: &str, on: bool) -> Self {
        if on {
            self.features.insert(feature.to_string());
        } else {
            self.features.remove(feature);
        }
        self
    }

    pub fn log_level(mut self, level: Option<LogLevel>) -> Self {
        self.log_level = level;
        self
    }

    pub fn has(&self, feature: &str) -> bool {
        self.features.contains(feature)
    }

    pub fn fastpath(&self) -> bool {
        self.has("fastpath")
    }

    /// The configuration's name: empty for the default configuration of its profile, else the
    /// differences from it joined with `-`: the features turned on, by name (`_` written `-`),
    /// then the default features turned off, as `no-<name>`, each group in the order of the
    /// names, then the log level as `log-<level>`. E.g. `benchmark-no-fastpath`.
    pub fn name(&self) -> String {
        let defaults = Self::default_features(self.profile);
        let on = self.features.difference(&defaults);
        let off = defaults.difference(&self.features);
        let mut parts: Vec<String> = on
            .map(|f| f.replace('_', "-"))
            .chain(off.map(|f| format!("no-{}", f.replace('_', "-"))))
            .collect();
        if let Some(l) = self.log_level {
            parts.push(format!("log-{}", l.as_str()));
        }
        parts.join("-")
    }

    /// The image's file name in `target/images/<profile>/`: `kernel`, or `kernel-<name>`.
    pub fn image_name(&self) -> String {
        match self.name() {
            n if n.is_empty() => KERNEL_BIN.to_string(),
            n => format!("{KERNEL_BIN}-{n}"),
        }
    }

    /// The features in a fixed order, for reports.
    pub fn feature_list(&self) -> Vec<String> {
        self.features.iter().cloned().collect()
    }

    /// The cargo arguments that select the features: only `--features <extras>` when every
    /// default feature is on (so that the build is the very one plain cargo makes), else
    /// `--no-default-features --features <all>`.
    pub fn cargo_feature_args(&self) -> Vec<String> {
        let defaults: BTreeSet<String> = KERNEL_DEFAULT_FEATURES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut args = Vec::new();
        let listed: Vec<&str> = if self.features.is_superset(&defaults) {
            self.features
                .difference(&defaults)
                .map(String::as_str)
                .collect()
        } else {
            args.push("--no-default-features".to_string());
            self.features.iter().map(String::as_str).collect()
        };
        if !listed.is_empty() {
            args.push("--features".to_string());
            args.push(listed.join(","));
        }
        args
    }
}

/// The image file name of a root task built with `features` (`bench`, `bench-quick`).
pub fn root_task_image_name(task: &RootTask, features: &[&str]) -> String {
    let mut f: Vec<&str> = features.to_vec();
    f.sort_unstable();
    f.dedup();
    std::iter::once(task.bin)
        .chain(f)
        .collect::<Vec<_>>()
        .join("-")
}

pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub members: Vec<String>,
}

impl Workspace {
    /// Locate the workspace (xtask lives in its top level) and ask cargo for
    /// its members and target directory (which honours CARGO_TARGET_DIR).
    pub fn load() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask has no parent directory")?;
        let root = root.to_path_buf();
        let out = cargo_command(&root)
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .output()
            .context("running `cargo metadata`")?;
        if !out.status.success() {
            bail!(
                "`cargo metadata` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let meta: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("parsing `cargo metadata`")?;
        let target_dir = meta["target_directory"]
            .as_str()
            .context("no target_directory in metadata")?
            .into();
        let members = meta["packages"]
            .as_array()
            .context("no packages in metadata")?
            .iter()
            .filter_map(|p| p["name"].as_str().map(String::from))
            .collect();
        Ok(Workspace {
            root,
            target_dir,
            members,
        })
    }

    pub fn has_package(&self, name: &str) -> bool {
        self.members.iter().any(|m| m == name)
    }

    pub fn cargo(&self) -> Command {
        cargo_command(&self.root)
    }

    /// Where cargo puts a binary built for `target`.
    pub fn artifact(&self, target: &str, profile: Profile, bin: &str) -> PathBuf {
        self.target_dir.join(target).join(profile.dir()).join(bin)
    }

    /// Make sure the active toolchain has the riscv64 target and `components` (see
    /// [`crate::toolchain`]): adds what is missing with rustup, or fails saying what to run.
    pub fn ensure_toolchain(&self, components: &[&str]) -> Result<()> {
        self.ensure_toolchain_for(&[Arch::Riscv64], components)
    }

    /// [`Workspace::ensure_toolchain`] with the targets of `arches`.
    pub fn ensure_toolchain_for(&self, arches: &[Arch], components: &[&str]) -> Result<()> {
        let targets: Vec<&str> = arches.iter().flat_map(|a| a.targets()).copied().collect();
        crate::toolchain::ensure(
            &crate::toolchain::Rustup::new(self.root.clone()),
            crate::toolchain::Needs {
                targets: &targets,
                components,
            },
        )
    }

    /// Where `cargo xtask` keeps the images it built, one file per configuration:
    /// `target/images/<profile>/` for riscv64, `target/images/aarch64/<profile>/` for aarch64.
    pub fn images_dir(&self, arch: Arch, profile: Profile) -> PathBuf {
        let images = self.target_dir.join("images");
        match arch {
            Arch::Riscv64 => images.join(profile.dir()),
            a => images.join(a.name()).join(profile.dir()),
        }
    }

    fn run_cargo_build(&self, args: &[String], env: &[(&str, Option<&str>)]) -> Result<()> {
        let mut cmd = self.cargo();
        cmd.arg("build").args(args);
        let mut shown = String::new();
        for &(k, v) in env {
            match v {
                Some(v) => {
                    cmd.env(k, v);
                    shown += &format!("{k}={v} ");
                }
                None => {
                    cmd.env_remove(k);
                }
            }
        }
        eprintln!("xtask: $ {shown}cargo build {}", args.join(" "));
        let status = cmd.status().context("running cargo")?;
        if !status.success() {
            bail!("`{shown}cargo build {}` failed ({status})", args.join(" "));
        }
        Ok(())
    }

    /// Copy a freshly built ELF to `target/images/<profile>/<name>` (through a temporary file
    /// and a rename, so that a QEMU reading the old one is not disturbed).
    fn publish(&self, elf: &Path, arch: Arch, profile: Profile, name: &str) -> Result<PathBuf> {
        let dir = self.images_dir(arch, profile);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let to = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
        std::fs::copy(elf, &tmp)
            .with_context(|| format!("copying {} to {}", elf.display(), tmp.display()))?;
        std::fs::rename(&tmp, &to)
            .with_context(|| format!("renaming {} to {}", tmp.display(), to.display()))?;
        Ok(to)
    }

    /// Build the kernel in configuration `config`; returns the image QEMU boots,
    /// `<images_dir>/<config.image_name()>` (the ELF; on aarch64 the flat `Image` beside it,
    /// `<name>.img`).
    pub fn build_kernel(&self, config: &KernelConfig) -> Result<PathBuf> {
        let target = config.arch.kernel_target();
        let mut args: Vec<String> = [
            "-p",
            KERNEL_PACKAGE,
            "--bin",
            KERNEL_BIN,
            "--target",
            target,
        ]
        .map(String::from)
        .to_vec();
        if config.profile == Profile::Release {
            args.push("--release".into());
        }
        args.extend(config.cargo_feature_args());
        // Without --log-level the variable is removed, so that the image is what its name says.
        let level = config.log_level.map(LogLevel::as_str);
        self.run_cargo_build(&args, &[(LOG_LEVEL_VAR, level)])?;
        let elf = existing(self.artifact(target, config.profile, KERNEL_BIN))?;
        // A riscv64 kernel may run its fastpath on the caller's sp (the kernel's trap.rs,
        // `FASTPATH_ON_USER_SP`; the check looks for its mark).
        if config.arch == Arch::Riscv64 {
            let problems = crate::fastpathcheck::check(&elf)?;
            if !problems.is_empty() {
                bail!(
                    "the IPC fastpath uses the stack:\n  {}",
                    problems.join("\n  ")
                );
            }
        }
        let image = self.publish(&elf, config.arch, config.profile, &config.image_name())?;
        let image = if config.arch.boots_flat_image() {
            let flat = image.with_extension("img");
            let bytes =
                std::fs::read(&image).with_context(|| format!("reading {}", image.display()))?;
            let tmp = flat.with_extension(format!("img.tmp{}", std::process::id()));
            std::fs::write(&tmp, elf_to_flat_image(&bytes)?)
                .with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &flat)
                .with_context(|| format!("renaming {} to {}", tmp.display(), flat.display()))?;
            flat
        } else {
            image
        };
        eprintln!("xtask: kernel image: {}", image.display());
        Ok(image)
    }

    /// Build the kernel in configuration `config` (release profile) with debug assertions and
    /// overflow checks on, in its own target directory (`target/checked`, so that the normal
    /// builds stay cached); returns its image, `target/images/release/<image name>-checked`.
    /// An arithmetic overflow or a failed `debug_assert!` then panics the kernel.
    pub fn build_checked_kernel(&self, config: &KernelConfig) -> Result<PathBuf> {
        let dir = self.target_dir.join("checked");
        let mut args: Vec<String> = [
            "-p",
            KERNEL_PACKAGE,
            "--bin",
            KERNEL_BIN,
            "--target",
            config.arch.kernel_target(),
            "--release",
        ]
        .map(String::from)
        .to_vec();
        args.push("--target-dir".into());
        args.push(dir.display().to_string());
        args.extend(config.cargo_feature_args());
        let level = config.log_level.map(LogLevel::as_str);
        self.run_cargo_build(
            &args,
            &[
                (LOG_LEVEL_VAR, level),
                ("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", Some("true")),
                ("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", Some("true")),
            ],
        )?;
        let elf = existing(
            dir.join(config.arch.kernel_target())
                .join(Profile::Release.dir())
                .join(KERNEL_BIN),
        )?;
        let name = format!("{}-checked", config.image_name());
        let image = self.publish(&elf, config.arch, Profile::Release, &name)?;
        eprintln!("xtask: kernel image: {}", image.display());
        Ok(image)
    }

    /// [`Workspace::build_root_task_for`] (riscv64) with environment variables for its build (`None`:
    /// removed), e.g. the fuzzing root task's `FUZZ_SEED`, which its build script watches.
    pub fn build_root_task_env(
        &self,
        profile: Profile,
        task: &RootTask,
        features: &[&str],
        env: &[(&str, Option<&str>)],
    ) -> Result<PathBuf> {
        self.build_root_task_for_env(Arch::Riscv64, profile, task, features, env)
    }

    /// Build one root task ELF for `arch` with cargo `features` of the task's package; returns
    /// its image, `target/images/<profile>/<bin>` or `<bin>-<features>`
    /// ([`root_task_image_name`]).
    pub fn build_root_task_for(
        &self,
        arch: Arch,
        profile: Profile,
        task: &RootTask,
        features: &[&str],
    ) -> Result<PathBuf> {
        self.build_root_task_for_env(arch, profile, task, features, &[])
    }

    /// [`Workspace::build_root_task_for`] with environment variables for the build.
    fn build_root_task_for_env(
        &self,
        arch: Arch,
        profile: Profile,
        task: &RootTask,
        features: &[&str],
        env: &[(&str, Option<&str>)],
    ) -> Result<PathBuf> {
        let target = arch.user_target();
        let mut args: Vec<String> = ["-p", task.package, "--bin", task.bin, "--target", target]
            .map(String::from)
            .to_vec();
        if profile == Profile::Release {
            args.push("--release".into());
        }
        if !features.is_empty() {
            args.push("--features".into());
            args.push(features.join(","));
        }
        self.run_cargo_build(&args, env)?;
        let elf = existing(self.artifact(target, profile, task.bin))?;
        let image = self.publish(&elf, arch, profile, &root_task_image_name(task, features))?;
        eprintln!("xtask: root task image: {}", image.display());
        Ok(image)
    }
}

/// The flat image of a statically linked little-endian ELF64 file: the contents of its
/// loadable segments, each at its physical (load) address minus the lowest one, the gaps
/// zero-filled, `.bss` (memory past a segment's file size) left out. This is what a Linux
/// arm64 `Image` is (`objcopy -O binary`); the kernel's first bytes are the `Image` header.
pub fn elf_to_flat_image(elf: &[u8]) -> Result<Vec<u8>> {
    let u16_at = |o: usize| -> Result<u64> {
        Ok(u16::from_le_bytes(
            elf.get(o..o + 2)
                .context("ELF file truncated")?
                .try_into()?,
        ) as u64)
    };
    let u32_at = |o: usize| -> Result<u64> {
        Ok(u32::from_le_bytes(
            elf.get(o..o + 4)
                .context("ELF file truncated")?
                .try_into()?,
        ) as u64)
    };
    let u64_at = |o: usize| -> Result<u64> {
        Ok(u64::from_le_bytes(
            elf.get(o..o + 8)
                .context("ELF file truncated")?
                .try_into()?,
        ))
    };
    if elf.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        bail!("not a little-endian ELF64 file");
    }
    let (phoff, phentsize, phnum) = (u64_at(0x20)?, u16_at(0x36)?, u16_at(0x38)?);
    const PT_LOAD: u64 = 1;
    let mut segments = Vec::new();
    for i in 0..phnum {
        let ph = (phoff + i * phentsize) as usize;
        let (kind, offset, paddr, filesz) = (
            u32_at(ph)?,
            u64_at(ph + 8)?,
            u64_at(ph + 24)?,
            u64_at(ph + 32)?,
        );
        if kind == PT_LOAD && filesz > 0 {
            let data = elf
                .get(offset as usize..(offset + filesz) as usize)
                .context("ELF segment outside the file")?;
            segments.push((paddr, data));
        }
    }
    let base = segments
        .iter()
        .map(|(p, _)| *p)
        .min()
        .context("ELF file without loadable contents")?;
    let end = segments
        .iter()
        .map(|(p, d)| p + d.len() as u64)
        .max()
        .unwrap_or(base);
    if end - base > 256 << 20 {
        bail!("ELF segments span {:#x} bytes: not one image", end - base);
    }
    let mut out = vec![0u8; (end - base) as usize];
    for (p, d) in segments {
        let at = (p - base) as usize;
        out[at..at + d.len()].copy_from_slice(d);
    }
    Ok(out)
}

impl Workspace {
    /// Build the loader (package `loader`) for `arch` carrying `kernel` and `root_task` (ELF
    /// files; an aarch64 kernel's flat `Image` `<elf>.img` stands for its ELF): one bootable
    /// file that enters the kernel with seL4's boot protocol. Returns its image,
    /// `target/images/<arch dir>/<profile>/<name>`.
    pub fn build_loader(
        &self,
        profile: Profile,
        arch: Arch,
        kernel: &Path,
        root_task: &Path,
        name: &str,
    ) -> Result<PathBuf> {
        self.build_loader_with(
            profile,
            arch,
            kernel,
            root_task,
            name,
            LoaderOpts::default(),
        )
    }

    /// [`Self::build_loader`] with `opts`.
    pub fn build_loader_with(
        &self,
        profile: Profile,
        arch: Arch,
        kernel: &Path,
        root_task: &Path,
        name: &str,
        opts: LoaderOpts,
    ) -> Result<PathBuf> {
        // The loader is built like the kernel (aarch64: no floating point, which EL1 code
        // cannot use before it enables it).
        let target = arch.kernel_target();
        let mut args: Vec<String> = [
            "-p",
            LOADER_PACKAGE,
            "--bin",
            LOADER_PACKAGE,
            "--target",
            target,
        ]
        .map(String::from)
        .to_vec();
        if profile == Profile::Release {
            args.push("--release".into());
        }
        let abs = |p: &Path| {
            std::fs::canonicalize(p).with_context(|| format!("{} not found", p.display()))
        };
        let kernel_elf = if kernel.extension().is_some_and(|e| e == "img") {
            kernel.with_extension("")
        } else {
            kernel.to_path_buf()
        };
        let (k, r) = (abs(&kernel_elf)?, abs(root_task)?);
        let (k, r) = (k.to_string_lossy(), r.to_string_lossy());
        self.run_cargo_build(
            &args,
            &[
                ("LOADER_KERNEL", Some(k.as_ref())),
                ("LOADER_ROOT_TASK", Some(r.as_ref())),
                ("LOADER_NO_DTB", opts.no_dtb.then_some("1")),
                ("LOADER_FAULT", opts.fault),
            ],
        )?;
        let elf = existing(self.artifact(target, profile, LOADER_PACKAGE))?;
        let image = self.publish(&elf, arch, profile, name)?;
        eprintln!("xtask: loader image: {}", image.display());
        Ok(image)
    }
}

/// How the loader hands over, besides seL4's boot protocol as the elfloader follows it.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoaderOpts {
    /// Pass no device tree, as Microkit's loader (`dtb_addr_p` = `dtb_size` = 0;
    /// `LOADER_NO_DTB`).
    pub no_dtb: bool,
    /// Spoil the hand-off this way (`LOADER_FAULT`, for tests: see `loader/src/main.rs`).
    pub fault: Option<&'static str>,
}

/// The loader package and binary (`loader/`).
pub const LOADER_PACKAGE: &str = "loader";

/// The name of the loader image carrying the kernel image `kernel` and the root task image
/// `root_task` (file names in `target/images/<profile>/`): `image-<kernel>-<root task>`.
pub fn loader_image_name(kernel: &Path, root_task: &Path) -> String {
    // An aarch64 kernel's flat `Image` (`<elf>.img`) is named after its ELF, which the
    // loader carries.
    let kernel = if kernel.extension().is_some_and(|e| e == "img") {
        kernel.with_extension("")
    } else {
        kernel.to_path_buf()
    };
    let kernel = kernel.as_path();
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    format!("image-{}-{}", name(kernel), name(root_task))
}

fn existing(p: PathBuf) -> Result<PathBuf> {
    if !p.is_file() {
        bail!("cargo succeeded but {} does not exist", p.display());
    }
    Ok(p)
}

/// `cargo` as the one that started us (the CARGO variable), run in the
/// workspace root.
fn cargo_command(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> KernelConfig {
        KernelConfig::new(Profile::Release)
    }

    #[test]
    fn configuration_names() {
        assert_eq!(release().name(), "");
        assert_eq!(release().image_name(), "kernel");
        let nofp = release().feature("fastpath", false);
        assert_eq!(nofp.image_name(), "kernel-no-fastpath");
        let bench = release().feature("benchmark", true);
        assert_eq!(bench.image_name(), "kernel-benchmark");
        let bench_nofp = bench.clone().feature("fastpath", false);
        assert_eq!(bench_nofp.image_name(), "kernel-benchmark-no-fastpath");
        assert_eq!(
            bench_nofp
                .clone()
                .log_level(Some(LogLevel::Debug))
                .image_name(),
            "kernel-benchmark-no-fastpath-log-debug"
        );
        assert_eq!(
            release().log_level(Some(LogLevel::Error)).image_name(),
            "kernel-log-error"
        );
        // Features to come sort in by name.
        let more = release()
            .feature("smp", true)
            .feature("mcs", true)
            .feature("fastpath", false);
        assert_eq!(more.name(), "mcs-smp-no-fastpath");

        // Debug builds have debug_build by default: the plain debug image is `kernel`.
        let debug = KernelConfig::new(Profile::Debug);
        assert!(debug.has(DEBUG_BUILD_FEATURE));
        assert_eq!(debug.image_name(), "kernel");
        assert_eq!(
            debug.clone().feature("fastpath", false).image_name(),
            "kernel-no-fastpath"
        );
        assert_eq!(
            debug.feature(DEBUG_BUILD_FEATURE, false).image_name(),
            "kernel-no-debug-build"
        );
        assert_eq!(
            release().feature(DEBUG_BUILD_FEATURE, true).image_name(),
            "kernel-debug-build"
        );
    }

    #[test]
    fn different_configurations_have_different_names() {
        let mut seen = BTreeSet::new();
        for profile in [Profile::Release, Profile::Debug] {
            for fastpath in [true, false] {
                for benchmark in [true, false] {
                    for level in [None, Some(LogLevel::Warn), Some(LogLevel::Debug)] {
                        let c = KernelConfig::new(profile)
                            .feature("fastpath", fastpath)
                            .feature("benchmark", benchmark)
                            .log_level(level);
                        assert!(seen.insert((profile.dir(), c.image_name())), "{c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn cargo_feature_arguments() {
        assert!(release().cargo_feature_args().is_empty());
        assert_eq!(
            release().feature("benchmark", true).cargo_feature_args(),
            ["--features", "benchmark"]
        );
        assert_eq!(
            release().feature("fastpath", false).cargo_feature_args(),
            ["--no-default-features"]
        );
        assert_eq!(
            KernelConfig::new(Profile::Debug)
                .feature("fastpath", false)
                .feature("benchmark", true)
                .cargo_feature_args(),
            [
                "--no-default-features",
                "--features",
                "benchmark,debug_build"
            ]
        );
    }

    /// A synthetic ELF with two loadable segments (one with `.bss` past its file size) and one
    /// that is not loadable: the flat image has the contents at their load addresses, the gap
    /// zeroed, no `.bss`.
    #[test]
    fn flat_images_follow_load_addresses() {
        let mut e = vec![0u8; 0x200];
        e[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1]);
        e[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes()); // phoff
        e[0x36..0x38].copy_from_slice(&56u16.to_le_bytes()); // phentsize
        e[0x38..0x3a].copy_from_slice(&3u16.to_le_bytes()); // phnum
        let ph = |e: &mut Vec<u8>, i: usize, kind: u32, off: u64, paddr: u64, filesz: u64| {
            let o = 0x40 + 56 * i;
            e[o..o + 4].copy_from_slice(&kind.to_le_bytes());
            e[o + 8..o + 16].copy_from_slice(&off.to_le_bytes());
            e[o + 16..o + 24].copy_from_slice(&(paddr + (1 << 40)).to_le_bytes()); // vaddr
            e[o + 24..o + 32].copy_from_slice(&paddr.to_le_bytes());
            e[o + 32..o + 40].copy_from_slice(&filesz.to_le_bytes());
            e[o + 40..o + 48].copy_from_slice(&(filesz + 0x100).to_le_bytes()); // memsz
        };
        ph(&mut e, 0, 1, 0x100, 0x4020_1000, 4);
        ph(&mut e, 1, 1, 0x180, 0x4020_0000, 2);
        ph(&mut e, 2, 4, 0x1c0, 0x1000, 8); // a note: not loaded
        e[0x100..0x104].copy_from_slice(b"text");
        e[0x180..0x182].copy_from_slice(b"hd");
        let img = elf_to_flat_image(&e).unwrap();
        assert_eq!(img.len(), 0x1004);
        assert_eq!(&img[..2], b"hd");
        assert!(img[2..0x1000].iter().all(|&b| b == 0));
        assert_eq!(&img[0x1000..], b"text");
        assert!(elf_to_flat_image(b"not an elf").is_err());
    }

    #[test]
    fn arches() {
        assert_eq!(Arch::default(), Arch::Riscv64);
        assert_eq!(
            Arch::Aarch64.kernel_target(),
            "aarch64-unknown-none-softfloat"
        );
        assert_eq!(Arch::Aarch64.user_target(), "aarch64-unknown-none");
        assert_eq!(Arch::Riscv64.kernel_target(), TARGET);
        assert!(Arch::Aarch64.boots_flat_image() && !Arch::Riscv64.boots_flat_image());
    }

    #[test]
    fn root_task_images() {
        assert_eq!(root_task_image_name(&DEMO, &[]), "demo");
        assert_eq!(root_task_image_name(&BENCH, &["quick"]), "bench-quick");
        assert_eq!(
            root_task_image_name(&BENCH, &["quick", "ipc-only"]),
            "bench-ipc-only-quick"
        );
    }

    /// A root task that says it has an `mcs` feature has one, and it turns on libsel4's.
    #[test]
    fn root_tasks_with_mcs_have_the_feature() {
        let tomls = [
            ("demo", include_str!("../../examples/demo/Cargo.toml")),
            (
                "roottask-tests",
                include_str!("../../tests/roottask/Cargo.toml"),
            ),
            ("bench", include_str!("../../bench/Cargo.toml")),
            ("hello", include_str!("../../examples/hello/Cargo.toml")),
            (
                "fuzz-roottask",
                include_str!("../../tests/fuzz-roottask/Cargo.toml"),
            ),
        ];
        for task in ROOT_TASKS {
            let (_, toml) = tomls
                .iter()
                .find(|(p, _)| *p == task.package)
                .expect("a root task this test does not know");
            let mcs = toml
                .lines()
                .find(|l| l.trim_start().starts_with("mcs ="))
                .map(|l| l.contains("\"libsel4/mcs\""));
            assert_eq!(mcs.is_some(), task.has_mcs, "{}: has_mcs", task.package);
            assert!(
                mcs.unwrap_or(true),
                "{}: mcs without libsel4/mcs",
                task.package
            );
        }
    }

    /// The kernel's Cargo.toml: its `default` features are [`KERNEL_DEFAULT_FEATURES`], and
    /// the features xtask turns on exist.
    #[test]
    fn kernel_features_match_kernel_cargo_toml() {
        let toml = include_str!("../../kernel/Cargo.toml");
        let features = &toml[toml.find("[features]").expect("no [features]")..];
        let features = &features[..features[1..].find("\n[").map_or(features.len(), |i| i + 1)];
        let names: Vec<&str> = features
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
            .collect();
        for f in ["fastpath", "benchmark", DEBUG_BUILD_FEATURE] {
            assert!(names.contains(&f), "kernel/Cargo.toml has no feature {f}");
        }
        let default = features
            .lines()
            .find_map(|l| l.trim().strip_prefix("default"))
            .and_then(|l| l.trim().strip_prefix('='))
            .expect("no default features");
        let default: Vec<&str> = default
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|s| s.trim().trim_matches('"'))
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(default, KERNEL_DEFAULT_FEATURES);
    }
}
