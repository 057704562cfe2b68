//! The thread queue of an endpoint or notification (seL4 `tcbEPAppend`, `tcbEPDequeue`): a
//! doubly linked list through the TCBs' `ep_next`/`ep_prev`, held by its head and tail.

use crate::object::tcb::TcbRef;

/// A queue of TCBs: kernel-virtual addresses of the first and last, 0 when empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcbQueue {
    /// First TCB, or 0.
    pub head: usize,
    /// Last TCB, or 0.
    pub tail: usize,
}

impl TcbQueue {
    /// The first thread.
    pub fn first(self) -> Option<TcbRef> {
        (self.head != 0).then(|| TcbRef::new(self.head))
    }

    /// The queue with `t` appended.
    pub fn append(self, t: TcbRef) -> TcbQueue {
        t.with(|x| {
            x.ep_prev = self.tail as u64;
            x.ep_next = 0;
        });
        if self.tail == 0 {
            TcbQueue {
                head: t.addr(),
                tail: t.addr(),
            }
        } else {
            TcbRef::new(self.tail).with(|x| x.ep_next = t.addr() as u64);
            TcbQueue {
                head: self.head,
                tail: t.addr(),
            }
        }
    }

    /// MCS: the queue with `t` inserted in priority order, after every thread of its
    /// priority or higher (seL4 `tcbAppend`: endpoint and notification queues are ordered
    /// by priority under MCS).
    #[cfg(feature = "mcs")]
    pub fn insert_by_priority(self, t: TcbRef) -> TcbQueue {
        let prio = t.with(|x| x.priority);
        let prio_of = |a: usize| TcbRef::new(a).with(|x| x.priority);
        if self.head == 0 || prio > prio_of(self.head) {
            // Prepend.
            t.with(|x| {
                x.ep_prev = 0;
                x.ep_next = self.head as u64;
            });
            if self.head == 0 {
                return TcbQueue {
                    head: t.addr(),
                    tail: t.addr(),
                };
            }
            TcbRef::new(self.head).with(|x| x.ep_prev = t.addr() as u64);
            return TcbQueue {
                head: t.addr(),
                tail: self.tail,
            };
        }
        if prio_of(self.tail) >= prio {
            return self.append(t);
        }
        // The last thread of priority >= prio: there is one (the head), and one after it.
        let mut before = self.head;
        loop {
            let next = TcbRef::new(before).with(|x| x.ep_next) as usize;
            if next == 0 || prio_of(next) < prio {
                break;
            }
            before = next;
        }
        let after = TcbRef::new(before).with(|x| x.ep_next) as usize;
        t.with(|x| {
            x.ep_prev = before as u64;
            x.ep_next = after as u64;
        });
        TcbRef::new(before).with(|x| x.ep_next = t.addr() as u64);
        TcbRef::new(after).with(|x| x.ep_prev = t.addr() as u64);
        self
    }

    /// The queue without `t`, which must be in it.
    pub fn remove(self, t: TcbRef) -> TcbQueue {
        let (prev, next) = t.with(|x| (x.ep_prev as usize, x.ep_next as usize));
        let mut q = self;
        if prev == 0 {
            q.head = next;
        } else {
            TcbRef::new(prev).with(|x| x.ep_next = next as u64);
        }
        if next == 0 {
            q.tail = prev;
        } else {
            TcbRef::new(next).with(|x| x.ep_prev = prev as u64);
        }
        t.with(|x| {
            x.ep_prev = 0;
            x.ep_next = 0;
        });
        q
    }

    /// Unlinks every thread and calls `f` on each, in queue order.
    pub fn drain(self, mut f: impl FnMut(TcbRef)) {
        let mut t = self.first();
        while let Some(x) = t {
            let next = x.with(|y| core::mem::take(&mut y.ep_next)) as usize;
            x.with(|y| y.ep_prev = 0);
            f(x);
            t = (next != 0).then(|| TcbRef::new(next));
        }
    }
}
