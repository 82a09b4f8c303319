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

    macro_rules! peek_on_read_half {
        ($half:ty, |$this:ident| $stream:expr) => {
            impl $half {
                /// Reads without removing the data from the receive queue;
                /// see [`TcpStream::peek`].
                ///
                /// # Errors
                ///
                /// The OS error of the `recv`.
                pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                    let $this = &*self;
                    $stream.peek(buf).await
                }

                /// Polls to peek into `buf`; see [`TcpStream::poll_peek`].
                ///
                /// # Errors
                ///
                /// The OS error of the `recv`.
                pub fn poll_peek(
                    &mut self,
                    cx: &mut std::task::Context<'_>,
                    buf: &mut crate::io::ReadBuf<'_>,
                ) -> std::task::Poll<io::Result<usize>> {
                    let $this = &*self;
                    $stream.poll_peek(cx, buf)
                }
            }
        };
    }

    peek_on_read_half!(ReadHalf<'_>, |this| this.0);
    peek_on_read_half!(OwnedReadHalf, |this| this.as_ref());
}

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
