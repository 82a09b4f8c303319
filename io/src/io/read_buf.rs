//! [`ReadBuf`]: the buffer an [`AsyncRead`](super::AsyncRead) reads into,
//! which may start uninitialized.

use std::fmt;
use std::mem::MaybeUninit;

/// A borrowed byte buffer that is filled in steps and may start
/// uninitialized (tokio's `ReadBuf`, with the same methods).
///
/// It is split in three regions, front to back:
///
/// ```text
/// [ filled | initialized, unfilled | uninitialized ]
/// 0     filled()              initialized()    capacity()
/// ```
///
/// Invariant: `filled <= initialized <= capacity`. A reader writes into
/// the unfilled part and then [`advance`](ReadBuf::advance)s; bytes it
/// wrote into uninitialized memory it declares with
/// [`assume_init`](ReadBuf::assume_init) first.
///
/// # Examples
///
/// ```
/// use std::mem::MaybeUninit;
/// use smp_rt_io::io::ReadBuf;
///
/// let mut memory = [MaybeUninit::<u8>::uninit(); 16];
/// let mut buf = ReadBuf::uninit(&mut memory);
/// buf.put_slice(b"hello");
/// assert_eq!(buf.filled(), b"hello");
/// assert_eq!(buf.remaining(), 11);
/// buf.initialize_unfilled_to(3).copy_from_slice(b" yo");
/// buf.advance(3);
/// assert_eq!(buf.filled(), b"hello yo");
/// ```
pub struct ReadBuf<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    filled: usize,
    initialized: usize,
}

impl<'a> ReadBuf<'a> {
    /// A buffer over initialized memory: all of it is `initialized`, none
    /// of it `filled`.
    #[inline]
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and
        // this buffer never writes uninitialized bytes into the slice (no
        // method de-initializes memory), so the caller's `&mut [u8]` stays
        // valid.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// A buffer over memory that may be uninitialized.
    #[inline]
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// The buffer's length.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The filled part.
    #[inline]
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `..filled` is initialized (`filled <= initialized`).
        unsafe { slice_assume_init(&self.buf[..self.filled]) }
    }

    /// The filled part, mutably.
    #[inline]
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: `..filled` is initialized (`filled <= initialized`).
        unsafe { slice_assume_init_mut(&mut self.buf[..self.filled]) }
    }

    /// A new buffer over at most `n` bytes of this one's unfilled part.
    /// What is filled there does not move this buffer's cursor: advance
    /// this one by the new one's `filled().len()` afterwards.
    #[inline]
    pub fn take(&mut self, n: usize) -> ReadBuf<'_> {
        let end = self.buf.len().min(self.filled + n);
        let initialized = self
            .initialized
            .saturating_sub(self.filled)
            .min(end - self.filled);
        ReadBuf {
            buf: &mut self.buf[self.filled..end],
            filled: 0,
            initialized,
        }
    }

    /// The initialized part (filled or not).
    #[inline]
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: `..initialized` is initialized (the invariant).
        unsafe { slice_assume_init(&self.buf[..self.initialized]) }
    }

    /// The initialized part (filled or not), mutably.
    #[inline]
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: `..initialized` is initialized (the invariant).
        unsafe { slice_assume_init_mut(&mut self.buf[..self.initialized]) }
    }

    /// The whole buffer, including what may be uninitialized.
    ///
    /// # Safety
    ///
    /// The caller must not de-initialize any byte (write
    /// `MaybeUninit::uninit()` into it): the buffer may have been made from
    /// a `&mut [u8]`.
    pub unsafe fn inner_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        self.buf
    }

    /// The unfilled part, which may be uninitialized.
    ///
    /// # Safety
    ///
    /// The caller must not de-initialize any byte (see
    /// [`inner_mut`](Self::inner_mut)).
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// The unfilled part, zeroing whatever of it was uninitialized.
    #[inline]
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// The first `n` bytes of the unfilled part, zeroing whatever of them
    /// was uninitialized.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`remaining`](Self::remaining).
    #[track_caller]
    #[inline]
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(
            n <= self.remaining(),
            "ReadBuf::initialize_unfilled_to({n}): only {} bytes are left unfilled",
            self.remaining()
        );
        let end = self.filled + n;
        if self.initialized < end {
            self.buf[self.initialized..end].fill(MaybeUninit::new(0));
            self.initialized = end;
        }
        // SAFETY: `..end` is initialized now.
        unsafe { slice_assume_init_mut(&mut self.buf[self.filled..end]) }
    }

    /// How many bytes are left unfilled.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.capacity() - self.filled
    }

    /// Empties the filled part (the memory stays initialized).
    #[inline]
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Moves `n` bytes from the unfilled to the filled part.
    ///
    /// # Panics
    ///
    /// If those bytes are not all initialized.
    #[track_caller]
    #[inline]
    pub fn advance(&mut self, n: usize) {
        let filled = self
            .filled
            .checked_add(n)
            .expect("ReadBuf::advance: filled overflows");
        self.set_filled(filled);
    }

    /// Sets how many bytes are filled (less empties part of the filled
    /// part).
    ///
    /// # Panics
    ///
    /// If `n` is more than the initialized length.
    #[track_caller]
    #[inline]
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "ReadBuf: {n} bytes cannot be filled, only {} are initialized (call `assume_init` \
             after writing into uninitialized memory)",
            self.initialized
        );
        self.filled = n;
    }

    /// Declares the first `n` unfilled bytes initialized.
    ///
    /// # Safety
    ///
    /// Those bytes must have been initialized.
    pub unsafe fn assume_init(&mut self, n: usize) {
        let end = self.filled + n;
        if end > self.initialized {
            self.initialized = end;
        }
    }

    /// Appends `data` to the filled part.
    ///
    /// # Panics
    ///
    /// If `data` is longer than [`remaining`](Self::remaining).
    #[track_caller]
    #[inline]
    pub fn put_slice(&mut self, data: &[u8]) {
        assert!(
            data.len() <= self.remaining(),
            "ReadBuf::put_slice: {} bytes do not fit in the {} left",
            data.len(),
            self.remaining()
        );
        let end = self.filled + data.len();
        let dst = &mut self.buf[self.filled..end];
        // SAFETY: `dst` and `data` have the same length (checked above),
        // `MaybeUninit<u8>` has `u8`'s layout, and a `&mut` cannot overlap
        // a `&`.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), dst.as_mut_ptr().cast::<u8>(), data.len())
        };
        if self.initialized < end {
            self.initialized = end;
        }
        self.filled = end;
    }
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

// SAFETY: `remaining_mut` is what `chunk_mut` returns and what
// `advance_mut` accepts; `advance_mut` only moves over bytes the caller
// wrote (the `BufMut` contract), which it declares initialized first.
unsafe impl bytes::BufMut for ReadBuf<'_> {
    fn remaining_mut(&self) -> usize {
        self.remaining()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: `BufMut::advance_mut`'s contract: the caller wrote the
        // next `cnt` bytes of `chunk_mut`.
        unsafe { self.assume_init(cnt) };
        self.advance(cnt);
    }

    fn chunk_mut(&mut self) -> &mut bytes::buf::UninitSlice {
        // SAFETY: `UninitSlice` never de-initializes memory.
        bytes::buf::UninitSlice::uninit(unsafe { self.unfilled_mut() })
    }
}

/// `slice` as initialized bytes.
///
/// # Safety
///
/// Every byte of `slice` must be initialized.
unsafe fn slice_assume_init(slice: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: same layout; the caller vouches for initialization.
    unsafe { &*(slice as *const [MaybeUninit<u8>] as *const [u8]) }
}

/// `slice` as initialized bytes, mutably.
///
/// # Safety
///
/// Every byte of `slice` must be initialized.
unsafe fn slice_assume_init_mut(slice: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    // SAFETY: same layout; the caller vouches for initialization, and
    // writing a `u8` keeps a byte initialized.
    unsafe { &mut *(slice as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    use super::ReadBuf;

    #[test]
    fn regions_move_as_bytes_are_put_advanced_and_cleared() {
        let mut memory = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut memory);
        assert_eq!(
            (buf.filled().len(), buf.initialized().len(), buf.remaining()),
            (0, 0, 8)
        );
        buf.put_slice(b"ab");
        assert_eq!(buf.initialize_unfilled_to(2), &[0, 0]);
        assert_eq!((buf.filled(), buf.initialized().len()), (&b"ab"[..], 4));
        buf.advance(2);
        assert_eq!(buf.filled(), b"ab\0\0");
        buf.clear();
        assert_eq!((buf.filled().len(), buf.initialized().len()), (0, 4));
        buf.set_filled(3);
        assert_eq!(buf.filled(), b"ab\0");
    }

    #[test]
    fn a_buffer_over_initialized_memory_is_initialized_and_unfilled() {
        let mut memory = *b"xyz";
        let mut buf = ReadBuf::new(&mut memory);
        assert_eq!(buf.initialized(), b"xyz");
        assert!(buf.filled().is_empty());
        buf.advance(2);
        assert_eq!(buf.filled(), b"xy");
    }

    #[test]
    fn take_fills_a_window_of_the_unfilled_part() {
        let mut memory = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut memory);
        buf.put_slice(b"12");
        let n = {
            let mut window = buf.take(3);
            assert_eq!(window.capacity(), 3);
            window.put_slice(b"345");
            window.filled().len()
        };
        // SAFETY: the window initialized those bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        assert_eq!(buf.filled(), b"12345");
        assert_eq!(buf.take(100).capacity(), 3);
    }

    #[test]
    fn bufmut_writes_append_to_the_filled_part() {
        use bytes::BufMut;
        let mut memory = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut memory);
        buf.put_u16(0x0102);
        buf.put_slice(b"z");
        assert_eq!(buf.filled(), &[1, 2, b'z']);
        assert_eq!(buf.remaining_mut(), 5);
    }

    #[test]
    #[should_panic(expected = "only 0 are initialized")]
    fn advancing_over_uninitialized_memory_panics() {
        let mut memory = [MaybeUninit::<u8>::uninit(); 4];
        ReadBuf::uninit(&mut memory).advance(1);
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn putting_more_than_fits_panics() {
        let mut memory = [0; 2];
        ReadBuf::new(&mut memory).put_slice(b"abc");
    }
}
