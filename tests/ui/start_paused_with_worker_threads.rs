#[smp_rt::test(worker_threads = 2, start_paused = true)]
async fn paused_with_workers() {}

fn main() {}
