//! TCP: [`TcpListener`], [`TcpStream`], [`TcpSocket`], and the halves of a
//! split stream.

mod listener;
mod socket;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;

pub(crate) mod split {
    //! The halves of a [`TcpStream`](super::TcpStream).

    use super::TcpStream;

    crate::net::split::stream_halves!(
        TcpStream,
        std::net::SocketAddr,
        "use smp_rt_io::net::{TcpListener, TcpStream};\n\
         let listener = TcpListener::bind(\"127.0.0.1:0\").await.unwrap();\n\
         let a = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();\n\
         let (b, _) = listener.accept().await.unwrap();"
    );
}

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
