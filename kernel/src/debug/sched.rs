//! `seL4_DebugDumpScheduler`: seL4's `debug_dumpScheduler` and `debug_printTCB`
//! (`include/api/debug.h`), one core. Every TCB in the debug list ([`super::tcbs`]), newest
//! first, one line each: name right-aligned in 40 columns, state in 15, restart pc as `%p`,
//! priority in 20, core, and with MCS whether it is in the release queue (0 or 1; the header
//! then ends in `\t InReleaseQueue`); tab-separated:
//!
//! ```text
//! Dumping all tcbs!
//! Name                                    \tState          \tIP                  \t Prio \t Core
//! --------------------------------------------------------------------------------------
//!                  child of: 'rootserver'\t       inactive\t0000000000000000\t                   0\t0
//!                             idle_thread\t           idle\t0x0000000080201234\t                   0\t0
//!                              rootserver\t        running\t0x0000000000010174\t                 255\t0
//! ```
#![forbid(unsafe_code)]

use super::tcbs::{self, Entry, IDLE_NAME, WALK_LIMIT};
use super::{out, Name, P};
use crate::object::tcb::{restart_pc, thread_name, TcbRef, ThreadState};
use crate::state::Kernel;

/// The state names of `debug_printTCB`.
pub fn state_name(s: ThreadState) -> &'static str {
    match s {
        ThreadState::Inactive => "inactive",
        ThreadState::Running => "running",
        ThreadState::Restart => "restart",
        ThreadState::BlockedOnReceive => "blocked on recv",
        ThreadState::BlockedOnSend => "blocked on send",
        ThreadState::BlockedOnReply => "blocked on reply",
        ThreadState::BlockedOnNotification => "blocked on ntfn",
        ThreadState::Idle => "idle",
    }
}

/// Where the idle thread waits (seL4 prints its idle thread's restart pc, the kernel's
/// `idle_thread` function); 0 on the host.
fn idle_pc() -> u64 {
    #[cfg(target_os = "none")]
    return crate::arch::wait_for_interrupt as *const () as usize as u64;
    #[cfg(not(target_os = "none"))]
    return 0;
}

/// `debug_printTCB` for one line; `in_release_queue` only with MCS.
fn print_line(name: &[u8], state: ThreadState, pc: u64, prio: u64, in_release_queue: Option<u64>) {
    out(format_args!(
        "{:>40}\t{:>15}\t{}\t{:>20}\t{}",
        Name(name),
        state_name(state),
        P(pc),
        prio,
        0
    ));
    if let Some(r) = in_release_queue {
        out(format_args!("\t{r}"));
    }
    out(format_args!("\n"));
}

/// The MCS column: whether `t` is in the release queue (`tcbInReleaseQueue`).
#[cfg(feature = "mcs")]
fn release_column(t: TcbRef) -> Option<u64> {
    Some(t.with(|x| x.in_release_queue))
}

/// No MCS column without MCS.
#[cfg(not(feature = "mcs"))]
fn release_column(_t: TcbRef) -> Option<u64> {
    None
}

/// `debug_dumpScheduler`.
pub fn dump_scheduler(k: &Kernel) {
    out(format_args!("Dumping all tcbs!\n"));
    out(format_args!(
        "Name                                    \tState          \tIP                  \t Prio \t Core{}\n",
        if cfg!(feature = "mcs") {
            "\t InReleaseQueue"
        } else {
            ""
        }
    ));
    out(format_args!(
        "--------------------------------------------------------------------------------------\n"
    ));
    for n in tcbs::iter(&k.debug, WALK_LIMIT) {
        let Entry::Tcb(t) = n else {
            let idle_release = cfg!(feature = "mcs").then_some(0);
            print_line(IDLE_NAME, ThreadState::Idle, idle_pc(), 0, idle_release);
            continue;
        };
        let (name, len) = thread_name(t);
        print_line(
            &name[..len],
            t.state(),
            restart_pc(t),
            t.with(|x| x.priority),
            release_column(t),
        );
    }
}
