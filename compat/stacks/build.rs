//! Generates the `Greeter` service's server and client (one unary method,
//! `SayHello`) from a description in Rust (tonic-build's manual builder),
//! with prost's codec for the messages defined in `src/lib.rs`. No `protoc`
//! is needed.

fn main() {
    let greeter = tonic_build::manual::Service::builder()
        .name("Greeter")
        .package("stacks")
        .method(
            tonic_build::manual::Method::builder()
                .name("say_hello")
                .route_name("SayHello")
                .input_type("crate::greeter::HelloRequest")
                .output_type("crate::greeter::HelloReply")
                .codec_path("tonic_prost::ProstCodec")
                .build(),
        )
        .build();
    tonic_build::manual::Builder::new().compile(&[greeter]);
}
