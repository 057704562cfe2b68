//! Making sure the Rust toolchain has what a command needs: the riscv64 target (every command
//! that builds for QEMU) and the `rustfmt` and `clippy` components (`cargo xtask test`, which
//! lints).
//!
//! Everything is added to the *active* toolchain, the one running this `cargo`, with
//! `rustup target add` and `rustup component add`. Not with `rustup toolchain install`: inside
//! `cargo xtask`, rustup's cargo proxy has set `RUSTUP_TOOLCHAIN`, and with that variable set
//! `rustup toolchain install` installs (or finds) that toolchain and ignores the `targets` and
//! `components` of rust-toolchain.toml, so on a machine without the target nothing was
//! installed. The rustup program and its environment are parameters ([`Rustup`]) so that the
//! tests can run this against a fake `rustup` that behaves like the real one.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// What a command needs from the toolchain.
#[derive(Debug, Clone, Copy)]
pub struct Needs<'a> {
    /// Rust targets (`rustup target add`).
    pub targets: &'a [&'a str],
    /// Toolchain components (`rustup component add`), e.g. `rustfmt`, `clippy`.
    pub components: &'a [&'a str],
}

/// How to run rustup.
#[derive(Debug, Clone)]
pub struct Rustup {
    /// The program: `rustup` on PATH, or a fake one in the tests.
    pub program: OsString,
    /// The directory it runs in (the workspace root, where rust-toolchain.toml is).
    pub dir: PathBuf,
    /// Environment changes for it (`None` removes the variable); everything else is inherited.
    pub env: Vec<(OsString, Option<OsString>)>,
}

impl Rustup {
    /// The real rustup, run in `dir` with our environment.
    pub fn new(dir: PathBuf) -> Self {
        Rustup {
            program: "rustup".into(),
            dir,
            env: Vec::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(args).current_dir(&self.dir).stdin(Stdio::null());
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    /// The toolchain rustup acts on when it is told nothing: `RUSTUP_TOOLCHAIN` if set (by
    /// rustup's cargo proxy inside `cargo xtask`), in our environment or in `env`.
    fn toolchain_override(&self) -> Option<String> {
        let from_env = self
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "RUSTUP_TOOLCHAIN")
            .map(|(_, v)| v.clone());
        let v = match from_env {
            Some(v) => v,
            None => std::env::var_os("RUSTUP_TOOLCHAIN"),
        }?;
        let v = v.to_string_lossy().trim().to_string();
        (!v.is_empty()).then_some(v)
    }

    /// The exact command a person should run to do what `rustup <args>` failed to do: in the
    /// workspace, for the same toolchain.
    fn advice(&self, args: &[&str]) -> String {
        let mut line = String::from("rustup");
        let mut args = args.iter();
        if let Some(first) = args.next() {
            line += &format!(" {first}");
            if let Some(second) = args.next() {
                line += &format!(" {second}");
            }
        }
        if let Some(t) = self.toolchain_override() {
            line += &format!(" --toolchain {t}");
        }
        for a in args {
            line += &format!(" {a}");
        }
        format!("cd {} && {line}", self.dir.display())
    }

    /// `rustup <what> list --installed`, one name a line; `None` if rustup is not there.
    fn installed(&self, what: &str) -> Result<Option<Vec<String>>> {
        let out = match self.command(&[what, "list", "--installed"]).output() {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "running `{} {what} list --installed`",
                        self.program.to_string_lossy()
                    )
                })
            }
        };
        if !out.status.success() {
            bail!(
                "`rustup {what} list --installed` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(Some(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
        ))
    }

    /// Run `rustup <args>` (its output goes to our stderr); fail with the exact command to run.
    fn add(&self, args: &[&str]) -> Result<()> {
        eprintln!("xtask: $ rustup {}", args.join(" "));
        let t = std::time::Instant::now();
        let status = self
            .command(args)
            .stdout(Stdio::from(std::io::stderr()))
            .status()
            .with_context(|| format!("running `rustup {}`", args.join(" ")))?;
        if !status.success() {
            bail!(
                "`rustup {}` failed ({status}); run it yourself:\n    {}",
                args.join(" "),
                self.advice(args)
            );
        }
        eprintln!("xtask: done in {:.1} s", t.elapsed().as_secs_f64());
        Ok(())
    }
}

/// Architectures of the hosts rustup runs on: the first part of the triple after a component's
/// name in `rustup component list` (`clippy-x86_64-unknown-linux-gnu`).
const HOST_ARCHES: &[&str] = &[
    "x86_64",
    "i686",
    "aarch64",
    "arm",
    "riscv64",
    "powerpc",
    "s390x",
    "loongarch64",
    "mips",
];

/// Whether `component` is in `rustup component list --installed`, whose lines are
/// `<name>-<host triple>` (e.g. `clippy-x86_64-unknown-linux-gnu`) or `<name>`. (Not fooled
/// by longer names: `rust` is not `rust-std-x86_64-unknown-linux-gnu`.)
pub fn component_listed(installed: &[String], component: &str) -> bool {
    installed.iter().any(|l| {
        l == component
            || l.strip_prefix(component)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|triple| HOST_ARCHES.iter().any(|a| triple.starts_with(a)))
    })
}

/// The names of `wanted` missing from `installed`.
pub fn missing<'a>(
    wanted: &[&'a str],
    installed: &[String],
    listed: impl Fn(&[String], &str) -> bool,
) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|w| !listed(installed, w))
        .collect()
}

fn target_listed(installed: &[String], target: &str) -> bool {
    installed.iter().any(|l| l == target)
}

/// Make sure the active toolchain has `needs`, adding what is missing with `rustup target add`
/// and `rustup component add`. Fails with the exact command to run if that does not work.
/// Without rustup (a toolchain installed some other way) it only warns: the build then says
/// what is missing.
pub fn ensure(rustup: &Rustup, needs: Needs<'_>) -> Result<()> {
    type Listed = fn(&[String], &str) -> bool;
    let kinds: [(&str, &[&str], Listed); 2] = [
        ("target", needs.targets, target_listed),
        ("component", needs.components, component_listed),
    ];
    for (what, wanted, listed) in kinds {
        if wanted.is_empty() {
            continue;
        }
        let installed = match rustup.installed(what) {
            Ok(Some(i)) => i,
            Ok(None) => {
                eprintln!(
                    "xtask: warning: rustup not found; not checking that the toolchain has the {what}(s) {} (with rustup: `rustup {what} add {}`)",
                    wanted.join(", "),
                    wanted.join(" ")
                );
                continue;
            }
            Err(e) => {
                eprintln!("xtask: warning: {e:#}; not checking the toolchain's {what}s");
                continue;
            }
        };
        let absent = missing(wanted, &installed, listed);
        if absent.is_empty() {
            continue;
        }
        let mut args = vec![what, "add"];
        args.extend(&absent);
        eprintln!(
            "xtask: the active Rust toolchain{} lacks the {what}(s) {}; adding",
            rustup
                .toolchain_override()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default(),
            absent.join(", "),
        );
        rustup.add(&args)?;
        let installed = rustup.installed(what)?.unwrap_or_default();
        let still = missing(wanted, &installed, listed);
        if !still.is_empty() {
            let mut args = vec![what, "add"];
            args.extend(&still);
            bail!(
                "the Rust {what}(s) {} are still missing after `rustup {}`; run it yourself:\n    {}",
                still.join(", "),
                args.join(" "),
                rustup.advice(&args)
            );
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::path::Path;

    /// A fake `rustup` that keeps its installed targets and components in files next to it,
    /// records every call in `calls`, and, like the real one, ignores rust-toolchain.toml for
    /// `rustup toolchain install` when `RUSTUP_TOOLCHAIN` is set (rustup's cargo proxy sets
    /// it). `FAKE_RUSTUP_BROKEN=1` makes `add` fail, `FAKE_RUSTUP_NOOP=1` makes it succeed
    /// without installing anything.
    const FAKE_RUSTUP: &str = r#"#!/bin/sh
d=$(dirname "$0")
echo "$*" >> "$d/calls"
echo "RUSTUP_TOOLCHAIN=$RUSTUP_TOOLCHAIN" >> "$d/env"
cmd="$1 $2"
shift 2
args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --toolchain) shift 2 ;;
    --installed) shift ;;
    *) args="$args $1"; shift ;;
  esac
done
case "$cmd" in
  "toolchain install")
    if [ -n "$RUSTUP_TOOLCHAIN" ]; then
      echo "info: using existing install for $RUSTUP_TOOLCHAIN" >&2
      echo "info: it's active because: overridden by environment variable RUSTUP_TOOLCHAIN" >&2
    else
      cat "$d/toolchain-file-targets" >> "$d/targets"
    fi ;;
  "target list")
    echo x86_64-unknown-linux-gnu
    cat "$d/targets" ;;
  "component list")
    echo cargo-x86_64-unknown-linux-gnu
    echo rust-std-x86_64-unknown-linux-gnu
    cat "$d/components" ;;
  "target add"|"component add")
    if [ -n "$FAKE_RUSTUP_BROKEN" ]; then echo "error: could not download" >&2; exit 1; fi
    if [ -n "$FAKE_RUSTUP_NOOP" ]; then exit 0; fi
    for a in $args; do
      if [ "$cmd" = "target add" ]; then echo "$a" >> "$d/targets"
      else echo "$a-x86_64-unknown-linux-gnu" >> "$d/components"; fi
    done ;;
  *) echo "fake rustup: unknown command $cmd" >&2; exit 2 ;;
esac
"#;

    struct Fake {
        dir: PathBuf,
    }

    impl Fake {
        fn new(name: &str) -> Fake {
            let dir = std::env::temp_dir()
                .join(format!("xtask-fake-rustup-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let prog = dir.join("rustup");
            std::fs::write(&prog, FAKE_RUSTUP).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
            for f in ["calls", "env", "targets", "components"] {
                std::fs::write(dir.join(f), "").unwrap();
            }
            std::fs::write(
                dir.join("toolchain-file-targets"),
                "riscv64gc-unknown-none-elf\n",
            )
            .unwrap();
            Fake { dir }
        }

        /// Rustup as `cargo xtask` sees it: the proxy has set RUSTUP_TOOLCHAIN.
        fn rustup(&self, extra: &[(&str, &str)]) -> Rustup {
            let mut env = vec![(
                OsString::from("RUSTUP_TOOLCHAIN"),
                Some(OsString::from("1.95.0-x86_64-unknown-linux-gnu")),
            )];
            env.extend(
                extra
                    .iter()
                    .map(|(k, v)| (OsString::from(k), Some(OsString::from(v)))),
            );
            Rustup {
                program: self.dir.join("rustup").into(),
                dir: self.dir.clone(),
                env,
            }
        }

        fn read(&self, f: &str) -> String {
            std::fs::read_to_string(self.dir.join(f)).unwrap()
        }

        fn lines(&self, f: &str) -> Vec<String> {
            self.read(f).lines().map(String::from).collect()
        }
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const RISCV: &str = "riscv64gc-unknown-none-elf";

    /// The bug of issue 10: inside `cargo xtask`, `rustup toolchain install` installed nothing.
    /// The fake reproduces that, and `ensure` must really install the target.
    #[test]
    fn the_target_gets_installed_although_rustup_toolchain_is_set() {
        let fake = Fake::new("target");
        let rustup = fake.rustup(&[]);
        // What the old code did: no target afterwards.
        rustup.command(&["toolchain", "install"]).status().unwrap();
        assert_eq!(fake.read("targets"), "");

        let needs = Needs {
            targets: &[RISCV],
            components: &[],
        };
        ensure(&rustup, needs).unwrap();
        assert_eq!(fake.lines("targets"), [RISCV]);
        let calls = fake.lines("calls");
        assert!(
            calls.contains(&format!("target add {RISCV}")),
            "calls: {calls:?}"
        );
        // Nothing asked for components, so they were not even listed.
        assert!(!calls.iter().any(|c| c.starts_with("component")));
        // rustup ran with the proxy's toolchain, i.e. for the active toolchain.
        assert!(fake
            .lines("env")
            .iter()
            .all(|e| e == "RUSTUP_TOOLCHAIN=1.95.0-x86_64-unknown-linux-gnu"));

        // Second time: everything is there, nothing is added.
        std::fs::write(fake.dir.join("calls"), "").unwrap();
        ensure(&rustup, needs).unwrap();
        assert_eq!(fake.lines("calls"), ["target list --installed"]);
    }

    #[test]
    fn only_missing_components_are_added() {
        let fake = Fake::new("components");
        std::fs::write(fake.dir.join("targets"), format!("{RISCV}\n")).unwrap();
        std::fs::write(
            fake.dir.join("components"),
            "clippy-x86_64-unknown-linux-gnu\n",
        )
        .unwrap();
        let needs = Needs {
            targets: &[RISCV],
            components: &["rustfmt", "clippy"],
        };
        ensure(&fake.rustup(&[]), needs).unwrap();
        let calls = fake.lines("calls");
        assert_eq!(
            calls,
            [
                "target list --installed",
                "component list --installed",
                "component add rustfmt",
                "component list --installed",
            ]
        );
        assert!(component_listed(&fake.lines("components"), "rustfmt"));
    }

    #[test]
    fn a_failing_rustup_says_what_to_run() {
        let fake = Fake::new("broken");
        let err = ensure(
            &fake.rustup(&[("FAKE_RUSTUP_BROKEN", "1")]),
            Needs {
                targets: &[RISCV],
                components: &[],
            },
        )
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains(&format!(
                "rustup target add --toolchain 1.95.0-x86_64-unknown-linux-gnu {RISCV}"
            )),
            "{msg}"
        );
        assert!(msg.contains(&format!("cd {}", fake.dir.display())), "{msg}");
    }

    #[test]
    fn an_add_that_installs_nothing_is_an_error() {
        let fake = Fake::new("noop");
        let err = ensure(
            &fake.rustup(&[("FAKE_RUSTUP_NOOP", "1")]),
            Needs {
                targets: &[],
                components: &["clippy"],
            },
        )
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("still missing"), "{msg}");
        assert!(msg.contains("rustup component add --toolchain"), "{msg}");
    }

    #[test]
    fn without_rustup_it_only_warns() {
        let r = Rustup {
            program: "/nonexistent/rustup".into(),
            dir: Path::new("/").into(),
            env: Vec::new(),
        };
        ensure(
            &r,
            Needs {
                targets: &[RISCV],
                components: &["clippy"],
            },
        )
        .unwrap();
    }

    #[test]
    fn component_lines() {
        let installed: Vec<String> = [
            "cargo-x86_64-unknown-linux-gnu",
            "clippy-x86_64-unknown-linux-gnu",
            "rust-std-riscv64gc-unknown-none-elf",
            "rustfmt-preview-aarch64-apple-darwin",
        ]
        .map(String::from)
        .to_vec();
        assert!(component_listed(&installed, "clippy"));
        assert!(component_listed(&installed, "cargo"));
        assert!(!component_listed(&installed, "rustfmt"));
        assert!(component_listed(&installed, "rustfmt-preview"));
        assert!(!component_listed(&installed, "rust"));
        assert!(!component_listed(&installed, "llvm-tools"));
        assert!(component_listed(&["llvm-tools".to_string()], "llvm-tools"));
        assert_eq!(
            missing(&["clippy", "rustfmt"], &installed, component_listed),
            ["rustfmt"]
        );
    }

    #[test]
    fn advice_names_the_toolchain() {
        let r = Rustup {
            program: "rustup".into(),
            dir: "/w".into(),
            env: vec![("RUSTUP_TOOLCHAIN".into(), Some("1.95.0".into()))],
        };
        assert_eq!(
            r.advice(&["target", "add", RISCV]),
            format!("cd /w && rustup target add --toolchain 1.95.0 {RISCV}")
        );
        let r = Rustup {
            env: vec![("RUSTUP_TOOLCHAIN".into(), None)],
            ..r
        };
        assert_eq!(
            r.advice(&["component", "add", "clippy", "rustfmt"]),
            "cd /w && rustup component add clippy rustfmt"
        );
    }
}
