#[smp_rt::main]
async fn main() {
    let count: u32 = "three";
    println!("{count}");
}
