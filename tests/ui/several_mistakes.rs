#[smp_rt::main(flavor = "threaded", worker_threads = 0, stack_size = 4096)]
fn main() {}
