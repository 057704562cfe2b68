//! The MCS parts of the scheduler (seL4 `src/kernel/thread.c` under `CONFIG_KERNEL_MCS`):
//! time accounting, budget checks and charging, the release queue, and the one-shot timer.
#![forbid(unsafe_code)]
