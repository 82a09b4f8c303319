// The macros' smallest `reductions` is the runtime's: it compiles, and the
// runtime it builds accepts it.
#[smp_rt::main(reductions = 66, worker_threads = 1)]
async fn main() {
    assert_eq!(smp_rt::runtime::MIN_REDUCTIONS, 66);
    let sum = smp_rt::spawn(async {
        let mut sum = 0u64;
        for i in 0..1000 {
            smp_rt::task::consume_budget().await;
            sum += i;
        }
        sum
    });
    assert_eq!(sum.await.unwrap(), 499_500);
}
