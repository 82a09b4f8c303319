use std::error::Error;
use std::fmt;

#[derive(Debug)]
struct Odd(u32);

impl fmt::Display for Odd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is odd", self.0)
    }
}

impl Error for Odd {}

fn check(n: u32) -> Result<u32, Odd> {
    if n % 2 == 0 { Ok(n / 2) } else { Err(Odd(n)) }
}

/// Documented, with a `Result` return type, `?` and a boxed error coercion.
#[smp_rt::main(worker_threads = 2, reductions = 500)]
async fn main() -> Result<(), Box<dyn Error>> {
    let parsed: u32 = "8".parse()?;
    let half = check(parsed)?;
    if half != 4 {
        return Err(Box::new(Odd(half)));
    }
    Ok(())
}
