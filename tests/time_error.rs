//! `time::error::Error`: each kind answers only its own predicate and
//! describes itself; `Elapsed` and `Error` are separate types.

use std::error::Error as _;

use smp_rt::time::error::{Elapsed, Error};

#[test]
fn each_kind_answers_only_its_own_predicate() {
    let kinds = [
        (Error::shutdown(), [true, false, false]),
        (Error::at_capacity(), [false, true, false]),
        (Error::invalid(), [false, false, true]),
    ];
    for (err, [shutdown, at_capacity, invalid]) in kinds {
        assert_eq!(err.is_shutdown(), shutdown, "{err:?}");
        assert_eq!(err.is_at_capacity(), at_capacity, "{err:?}");
        assert_eq!(err.is_invalid(), invalid, "{err:?}");
    }
}

#[test]
fn display_says_what_went_wrong() {
    assert_eq!(
        Error::shutdown().to_string(),
        "the timer is shutdown, must be called from the context of an smp_rt runtime"
    );
    assert_eq!(
        Error::at_capacity().to_string(),
        "timer is at capacity and cannot create a new entry"
    );
    assert_eq!(
        Error::invalid().to_string(),
        "timer duration exceeds maximum duration"
    );
}

#[test]
fn is_a_copyable_std_error() {
    fn assert_traits<T: std::error::Error + Send + Sync + Copy + 'static>() {}
    assert_traits::<Error>();
    let err = Error::invalid();
    let copy = err;
    assert!(copy.is_invalid() && err.is_invalid());
    assert!(err.source().is_none());
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert!(boxed.downcast_ref::<Elapsed>().is_none());
    assert!(boxed.downcast_ref::<Error>().unwrap().is_invalid());
}
