#[smp_rt::main(reductions = 100, reductions = 200)]
async fn main() {}
