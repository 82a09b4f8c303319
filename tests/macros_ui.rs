//! Compile-time behaviour of `#[smp_rt::main]` and `#[smp_rt::test]`: misuse
//! is rejected with an error that explains the fix, and correct uses compile
//! and run.

#[test]
fn macros_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
