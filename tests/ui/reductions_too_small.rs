#[smp_rt::test(reductions = 65)]
async fn too_small() {}

fn main() {}
