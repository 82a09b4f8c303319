use std::rc::Rc;

#[smp_rt::main(flavor = "local")]
async fn main() {
    let rc = Rc::new(5);
    let out = smp_rt::task::spawn_local(async move { *rc }).await.unwrap();
    assert_eq!(out, 5);
}
