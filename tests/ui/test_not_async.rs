#[smp_rt::test]
fn not_async() {}

fn main() {}
