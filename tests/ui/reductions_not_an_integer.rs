#[smp_rt::main(reductions = 2.5)]
async fn main() {}
