#[smp_rt::test(reductions = 0)]
async fn zero_reductions() {}

fn main() {}
