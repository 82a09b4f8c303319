#[smp_rt::main]
async fn run(name: String) {
    println!("{name}");
}

fn main() {}
