#[smp_rt::main(workers = 4)]
async fn main() {}
