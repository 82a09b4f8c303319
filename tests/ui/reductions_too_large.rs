#[smp_rt::main(reductions = 5_000_000_000)]
async fn main() {}
