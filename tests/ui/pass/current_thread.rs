#[smp_rt::main(flavor = "current_thread")]
async fn main() {
    let caller = std::thread::current().id();
    let handle = smp_rt::spawn(async move { std::thread::current().id() });
    assert_eq!(handle.await.expect("the spawned task failed"), caller);
}
