//! The MCS parts of the scheduler (seL4 `src/kernel/thread.c` under `CONFIG_KERNEL_MCS`):
//! time accounting, budget checks and charging, the release queue, and the one-shot timer.
#![forbid(unsafe_code)]

// ---- LEAD-STUB: placeholders until branch mcs-time lands.
use crate::state::Kernel;
/// `updateTimestamp`.
pub fn update_timestamp(_k: &mut Kernel) {}
/// `checkBudgetRestart`.
pub fn check_budget_restart(_k: &mut Kernel) -> bool {
    true
}
/// `mcsPreemptionPoint`.
pub fn preemption_point(_k: &mut Kernel) {}
/// `chargeBudget(consumed, canTimeoutFault)`.
pub fn charge_budget(_k: &mut Kernel, _consumed: u64, _can_timeout_fault: bool) {}
/// `postpone(sc)`.
pub fn postpone(_k: &mut Kernel, _sc: crate::object::sched_context::ScRef) {}
