//! Out-of-line copies of the fast paths, one symbol each, so that their
//! machine code can be read off a build (`scripts/disasm-aarch64.sh`).
//! Compiled only with the `disasm` feature; not part of the API.

#![allow(missing_docs)]

use crate::loom::AtomicPtr;
use crate::queue::{Inbox, Local, Node, Steal};
use std::ptr::NonNull;

/// A boxed inbox node.
pub struct DisasmNode {
    link: AtomicPtr<()>,
}

// SAFETY: the pointer is a leaked `Box<DisasmNode>` and `link` its field.
unsafe impl Node for Box<DisasmNode> {
    fn into_raw(self) -> NonNull<()> {
        NonNull::from(Box::leak(self)).cast()
    }
    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: from `into_raw`.
        unsafe { Box::from_raw(ptr.cast::<DisasmNode>().as_ptr()) }
    }
    unsafe fn link<'a>(ptr: NonNull<()>) -> &'a AtomicPtr<()> {
        // SAFETY: the node is alive.
        unsafe { &(*ptr.cast::<DisasmNode>().as_ptr()).link }
    }
}

/// Opaque ring of words: its owner's handle and a thief's.
pub struct DisasmRing(Local<usize>, Steal<usize>);
/// Opaque inbox.
pub struct DisasmInbox(Inbox<Box<DisasmNode>>);

#[unsafe(no_mangle)]
#[inline(never)]
pub fn smp_rt_disasm_ring_push(ring: &mut DisasmRing, value: usize) -> bool {
    ring.0.push_back(value).is_ok()
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn smp_rt_disasm_ring_pop(ring: &mut DisasmRing) -> Option<usize> {
    ring.0.pop()
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn smp_rt_disasm_ring_steal(victim: &DisasmRing, thief: &mut DisasmRing) -> Option<usize> {
    victim.1.steal_into(&mut thief.0)
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn smp_rt_disasm_inbox_push(inbox: &DisasmInbox, node: Box<DisasmNode>) {
    inbox.0.push(node)
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn smp_rt_disasm_inbox_drain(inbox: &DisasmInbox) -> usize {
    inbox
        .0
        .drain()
        .map(|node| node.link.as_ptr() as usize)
        .count()
}

#[unsafe(no_mangle)]
#[inline(never)]
pub fn smp_rt_disasm_idle_wait(inbox: &DisasmInbox) -> bool {
    inbox.0.wait_for_push(4)
}
