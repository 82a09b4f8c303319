#[smp_rt::main]
async fn main() -> Result<(), String> {
    Ok(42)
}
