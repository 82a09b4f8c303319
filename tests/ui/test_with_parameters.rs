#[smp_rt::test]
async fn takes_input(input: u32) {
    assert_eq!(input, 1);
}

fn main() {}
