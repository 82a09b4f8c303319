#[smp_rt::main]
fn main() {}
