#[smp_rt::main(worker_threads)]
async fn main() {}
