//! A boxed [`Node`] carrying a value, for the queues' tests.

use std::ptr::{self, NonNull};

use super::Node;
use crate::loom::AtomicPtr;

/// A test node.
pub(crate) struct TestNode {
    link: AtomicPtr<()>,
    pub(crate) value: usize,
}

// SAFETY: the pointer is a leaked `Box<TestNode>` and `link` is its field.
unsafe impl Node for Box<TestNode> {
    fn into_raw(self) -> NonNull<()> {
        NonNull::from(Box::leak(self)).cast()
    }
    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: the caller passes a pointer from `into_raw`.
        unsafe { Box::from_raw(ptr.cast::<TestNode>().as_ptr()) }
    }
    unsafe fn link<'a>(ptr: NonNull<()>) -> &'a AtomicPtr<()> {
        // SAFETY: the caller guarantees the node is alive.
        unsafe { &(*ptr.cast::<TestNode>().as_ptr()).link }
    }
}

/// A node carrying `value`.
pub(crate) fn node(value: usize) -> Box<TestNode> {
    Box::new(TestNode {
        link: AtomicPtr::new(ptr::null_mut()),
        value,
    })
}
