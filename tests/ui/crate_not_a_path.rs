#[smp_rt::main(crate = "not a path")]
async fn main() {}
