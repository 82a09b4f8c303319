// The expansion names the runtime by the `crate` argument's path.
#[smp_rt::main(crate = "no_such_runtime")]
async fn main() {}
