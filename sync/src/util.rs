//! Helpers shared by the primitives built on [`Notify`](crate::Notify).

use std::future::Future;
use std::task::ready;

use smp_rt_executor::task::poll_charge;

use crate::notify::Notified;

/// Runs `f`, charging one reduction at every poll before polling it. The
/// futures `f` awaits must not charge themselves (see [`notified`]).
pub(crate) async fn charged<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| {
        ready!(poll_charge(cx));
        f.as_mut().poll(cx)
    })
    .await
}

/// Awaits `n` without charging: for use inside [`charged`].
pub(crate) async fn notified(mut n: Notified<'_>) {
    std::future::poll_fn(|cx| n.poll_uncharged(cx)).await
}
