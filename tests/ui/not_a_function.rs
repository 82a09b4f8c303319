#[smp_rt::main]
struct Server;

fn main() {}
