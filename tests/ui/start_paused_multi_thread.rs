#[smp_rt::test(flavor = "multi_thread", start_paused = true)]
async fn paused_on_a_multi_thread_runtime() {}

fn main() {}
