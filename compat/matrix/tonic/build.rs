//! Generates the `Greeter` service's server and client from a description
//! in Rust (tonic-build's manual builder), with prost's codec for the
//! messages defined in `src/main.rs`.

fn main() {
    let method = |name: &str, route: &str| {
        tonic_build::manual::Method::builder()
            .name(name)
            .route_name(route)
            .input_type("crate::HelloRequest")
            .output_type("crate::HelloReply")
            .codec_path("tonic_prost::ProstCodec")
    };
    let greeter = tonic_build::manual::Service::builder()
        .name("Greeter")
        .package("matrix")
        .method(method("say_hello", "SayHello").build())
        .method(method("count_to", "CountTo").server_streaming().build())
        .build();
    tonic_build::manual::Builder::new().compile(&[greeter]);
}
