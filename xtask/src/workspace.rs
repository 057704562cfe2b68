//! The cargo workspace: where it is, what is in it, and building the kernel
//! and the root tasks for the target.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The one target everything that runs in QEMU is built for.
pub const TARGET: &str = "riscv64gc-unknown-none-elf";

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
}

pub const DEMO: RootTask = RootTask {
    package: "demo",
    bin: "demo",
    optional: false,
};
pub const TESTS: RootTask = RootTask {
    package: "roottask-tests",
    bin: "roottask-tests",
    optional: false,
};
pub const BENCH: RootTask = RootTask {
    package: "bench",
    bin: "bench",
    optional: true,
};

/// Every root task `cargo xtask build` builds. Add new ones here.
pub const ROOT_TASKS: &[RootTask] = &[DEMO, TESTS, BENCH];

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

    /// Where cargo puts a binary built for [`TARGET`].
    pub fn artifact(&self, profile: Profile, bin: &str) -> PathBuf {
        self.target_dir.join(TARGET).join(profile.dir()).join(bin)
    }

    /// Make sure the active toolchain has the riscv64 target and `components` (see
    /// [`crate::toolchain`]): adds what is missing with rustup, or fails saying what to run.
    pub fn ensure_toolchain(&self, components: &[&str]) -> Result<()> {
        crate::toolchain::ensure(
            &crate::toolchain::Rustup::new(self.root.clone()),
            crate::toolchain::Needs {
                targets: &[TARGET],
                components,
            },
        )
    }

    fn run_cargo_build(&self, args: &[&str]) -> Result<()> {
        let mut cmd = self.cargo();
        cmd.arg("build").args(args);
        eprintln!("xtask: $ cargo build {}", args.join(" "));
        let status = cmd.status().context("running cargo")?;
        if !status.success() {
            bail!("`cargo build {}` failed ({status})", args.join(" "));
        }
        Ok(())
    }

    /// Build the kernel ELF; `fastpath: false` builds with `--no-default-features`.
    pub fn build_kernel(&self, profile: Profile, fastpath: bool) -> Result<PathBuf> {
        self.build_kernel_with(profile, fastpath, &[])
    }

    /// [`Workspace::build_kernel`] with extra cargo `features` (e.g. `benchmark`).
    pub fn build_kernel_with(
        &self,
        profile: Profile,
        fastpath: bool,
        features: &[&str],
    ) -> Result<PathBuf> {
        let features = features.join(",");
        let mut args = vec![
            "-p",
            KERNEL_PACKAGE,
            "--bin",
            KERNEL_BIN,
            "--target",
            TARGET,
        ];
        if profile == Profile::Release {
            args.push("--release");
        }
        if !fastpath {
            args.push("--no-default-features");
        }
        if !features.is_empty() {
            args.extend(["--features", &features]);
        }
        self.run_cargo_build(&args)?;
        existing(self.artifact(profile, KERNEL_BIN))
    }

    /// Build one root task ELF.
    pub fn build_root_task(&self, profile: Profile, task: &RootTask) -> Result<PathBuf> {
        self.build_root_task_with(profile, task, &[])
    }

    /// [`Workspace::build_root_task`] with cargo `features` of the task's package.
    pub fn build_root_task_with(
        &self,
        profile: Profile,
        task: &RootTask,
        features: &[&str],
    ) -> Result<PathBuf> {
        let features = features.join(",");
        let mut args = vec!["-p", task.package, "--bin", task.bin, "--target", TARGET];
        if profile == Profile::Release {
            args.push("--release");
        }
        if !features.is_empty() {
            args.extend(["--features", &features]);
        }
        self.run_cargo_build(&args)?;
        existing(self.artifact(profile, task.bin))
    }

    /// Copy a freshly built ELF to `name` next to it, so that the file booted is not replaced
    /// by another build (with other features) before QEMU has read it.
    pub fn snapshot(&self, elf: &Path, name: &str) -> Result<PathBuf> {
        let to = elf.with_file_name(name);
        std::fs::copy(elf, &to)
            .with_context(|| format!("copying {} to {}", elf.display(), to.display()))?;
        Ok(to)
    }
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
