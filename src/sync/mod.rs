//! Budget-aware synchronisation primitives.
