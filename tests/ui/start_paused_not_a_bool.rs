#[smp_rt::main(start_paused = "yes")]
async fn main() {}
