#[smp_rt::main(worker_threads = 4 reductions = 100)]
async fn main() {}
