//! The services attached to a runtime with `Builder::extension` (the IO
//! reactor, the timers), found again by their type.
//!
//! Each entry keeps its `TypeId` next to it: a lookup compares plain
//! values instead of calling `Any::type_id` through the vtable of every
//! entry, and the match is cast without a second check. Timers look theirs
//! up once per timer.

use std::any::{Any, TypeId};
use std::sync::Arc;

/// A runtime's services, by type.
#[derive(Clone, Default)]
pub(crate) struct Extensions(Vec<Extension>);

#[derive(Clone)]
struct Extension {
    /// The `TypeId` of `value`'s concrete type.
    type_id: TypeId,
    value: Arc<dyn Any + Send + Sync>,
}

impl Extensions {
    /// Attaches `value`. A second value of the same type is kept too, but
    /// [`get`](Extensions::get) finds the first.
    pub(crate) fn insert<T: Any + Send + Sync>(&mut self, value: Arc<T>) {
        self.0.push(Extension {
            type_id: TypeId::of::<T>(),
            value,
        });
    }

    /// The first service of type `T`, if any.
    #[inline]
    pub(crate) fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let wanted = TypeId::of::<T>();
        let ext = self.0.iter().find(|ext| ext.type_id == wanted)?;
        // Only the match pays a reference-count increment.
        let raw = Arc::into_raw(Arc::clone(&ext.value)).cast::<T>();
        // SAFETY: `type_id` is the concrete type of `value` (`insert` took
        // it from the `Arc<T>` it coerced), so the data pointer points to a
        // `T` in an allocation made by `Arc<T>`, which `from_raw` may take
        // back as one.
        Some(unsafe { Arc::from_raw(raw) })
    }

    /// The first service of type `T`, if any, borrowed from the list.
    pub(crate) fn get_ref<T: Any + Send + Sync>(&self) -> Option<&T> {
        let wanted = TypeId::of::<T>();
        let ext = self.0.iter().find(|ext| ext.type_id == wanted)?;
        (*ext.value).downcast_ref::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_found_by_its_type_and_shared() {
        let mut extensions = Extensions::default();
        let number = Arc::new(7u32);
        extensions.insert(number.clone());
        extensions.insert(Arc::new(String::from("seven")));
        let found = extensions.get::<u32>().expect("the u32 was attached");
        assert!(Arc::ptr_eq(&found, &number));
        assert_eq!(
            *extensions.get::<String>().expect("the String too"),
            "seven"
        );
        assert!(extensions.get::<u64>().is_none());
        // The lookup's clone is the one dropped: the count is back to the
        // two that the test and the list hold.
        drop(found);
        assert_eq!(Arc::strong_count(&number), 2);
    }

    #[test]
    fn the_first_of_two_services_of_one_type_is_found() {
        let mut extensions = Extensions::default();
        extensions.insert(Arc::new(1u8));
        extensions.insert(Arc::new(2u8));
        assert_eq!(*extensions.get::<u8>().unwrap(), 1);
    }
}
