#[smp_rt::main(flavor = current_thread)]
async fn main() {}
