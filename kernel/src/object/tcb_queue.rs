//! The thread queue of an endpoint or notification (seL4 `tcbEPAppend`, `tcbEPDequeue`): a
//! doubly linked list through the TCBs' `ep_next`/`ep_prev`, held by its head and tail.

use crate::mem::Link;
use crate::object::tcb::TcbRef;

/// A queue of TCBs: the first and last, none when empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcbQueue {
    /// First TCB.
    pub head: Option<TcbRef>,
    /// Last TCB.
    pub tail: Option<TcbRef>,
}

impl TcbQueue {
    /// The first thread.
    pub fn first(self) -> Option<TcbRef> {
        self.head
    }

    /// The queue with `t` appended.
    pub fn append(self, t: TcbRef) -> TcbQueue {
        t.with(|x| {
            x.ep_prev = Link::from_opt(self.tail);
            x.ep_next = Link::NONE;
        });
        match self.tail {
            None => TcbQueue {
                head: Some(t),
                tail: Some(t),
            },
            Some(tail) => {
                tail.with(|x| x.ep_next = Link::to(t));
                TcbQueue {
                    head: self.head,
                    tail: Some(t),
                }
            }
        }
    }

    /// MCS: the queue with `t` inserted in priority order, after every thread of its
    /// priority or higher (seL4 `tcbAppend`: endpoint and notification queues are ordered
    /// by priority under MCS).
    #[cfg(feature = "mcs")]
    pub fn insert_by_priority(self, t: TcbRef) -> TcbQueue {
        let prio = t.with(|x| x.priority);
        let prio_of = |a: TcbRef| a.with(|x| x.priority);
        let (Some(head), Some(tail)) = (self.head, self.tail) else {
            t.with(|x| {
                x.ep_prev = Link::NONE;
                x.ep_next = Link::NONE;
            });
            return TcbQueue {
                head: Some(t),
                tail: Some(t),
            };
        };
        if prio > prio_of(head) {
            // Prepend.
            t.with(|x| {
                x.ep_prev = Link::NONE;
                x.ep_next = Link::to(head);
            });
            head.with(|x| x.ep_prev = Link::to(t));
            return TcbQueue {
                head: Some(t),
                tail: self.tail,
            };
        }
        if prio_of(tail) >= prio {
            return self.append(t);
        }
        // The last thread of priority >= prio: there is one (the head), and one after it.
        let mut before = head;
        loop {
            match before.with(|x| x.ep_next).get() {
                Some(next) if prio_of(next) >= prio => before = next,
                _ => break,
            }
        }
        let after = before.with(|x| x.ep_next);
        t.with(|x| {
            x.ep_prev = Link::to(before);
            x.ep_next = after;
        });
        before.with(|x| x.ep_next = Link::to(t));
        if let Some(after) = after.get() {
            after.with(|x| x.ep_prev = Link::to(t));
        }
        self
    }

    /// The queue without `t`, which must be in it.
    pub fn remove(self, t: TcbRef) -> TcbQueue {
        let (prev, next) = t.with(|x| (x.ep_prev.get(), x.ep_next.get()));
        let mut q = self;
        match prev {
            None => q.head = next,
            Some(p) => p.with(|x| x.ep_next = Link::from_opt(next)),
        }
        match next {
            None => q.tail = prev,
            Some(n) => n.with(|x| x.ep_prev = Link::from_opt(prev)),
        }
        t.with(|x| {
            x.ep_prev = Link::NONE;
            x.ep_next = Link::NONE;
        });
        q
    }

    /// Unlinks every thread and calls `f` on each, in queue order.
    pub fn drain(self, mut f: impl FnMut(TcbRef)) {
        let mut t = self.first();
        while let Some(x) = t {
            let next = x.with(|y| y.ep_next.take());
            x.with(|y| y.ep_prev = Link::NONE);
            f(x);
            t = next;
        }
    }
}
