use smp_rt::time::{Duration, Instant, sleep};

#[smp_rt::main(start_paused = true)]
async fn main() {
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
}
