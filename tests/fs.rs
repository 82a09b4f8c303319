//! `smp_rt::fs`: the free functions, `File`'s buffered reads, writes and
//! seeks on the blocking pool, `OpenOptions`, `read_dir`, `DirBuilder`.

use std::future::poll_fn;
use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use smp_rt::fs::{self, DirBuilder, File, OpenOptions};
use smp_rt::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

mod common;

use common::preemptions_of;

/// A fresh directory under the temp dir, unique to this process and call;
/// removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("smp_rt-fs-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn read_some<R: AsyncRead + Unpin>(reader: &mut R, max: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; max];
    let mut buf = ReadBuf::new(&mut bytes);
    poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut buf)).await?;
    let n = buf.filled().len();
    bytes.truncate(n);
    Ok(bytes)
}

async fn read_to_end<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    loop {
        let chunk = read_some(reader, 7).await?;
        if chunk.is_empty() {
            return Ok(all);
        }
        all.extend_from_slice(&chunk);
    }
}

async fn write_all<W: AsyncWrite + Unpin>(writer: &mut W, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, bytes)).await?;
        assert!(n > 0, "a file write took no byte");
        bytes = &bytes[n..];
    }
    Ok(())
}

async fn flush<W: AsyncWrite + Unpin>(writer: &mut W) -> std::io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await
}

/// As `AsyncSeekExt::seek`: completes what is in flight, then seeks.
async fn seek<S: AsyncSeek + Unpin>(file: &mut S, pos: SeekFrom) -> std::io::Result<u64> {
    poll_fn(|cx| Pin::new(&mut *file).poll_complete(cx)).await?;
    Pin::new(&mut *file).start_seek(pos)?;
    poll_fn(|cx| Pin::new(&mut *file).poll_complete(cx)).await
}

#[smp_rt::test]
async fn write_read_copy_rename_remove() {
    let dir = TempDir::new();
    let a = dir.join("a.txt");
    fs::write(&a, "hello fs").await.unwrap();
    assert_eq!(fs::read(&a).await.unwrap(), b"hello fs");
    assert_eq!(fs::read_to_string(&a).await.unwrap(), "hello fs");
    assert_eq!(fs::metadata(&a).await.unwrap().len(), 8);
    assert!(fs::try_exists(&a).await.unwrap());

    let b = dir.join("b.txt");
    assert_eq!(fs::copy(&a, &b).await.unwrap(), 8);
    let c = dir.join("c.txt");
    fs::rename(&b, &c).await.unwrap();
    assert!(!fs::try_exists(&b).await.unwrap());
    assert_eq!(fs::read(&c).await.unwrap(), b"hello fs");

    fs::remove_file(&c).await.unwrap();
    assert!(!fs::try_exists(&c).await.unwrap());
    let err = fs::metadata(&c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = fs::read_to_string(&c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    fs::write(&a, [0xff, 0xfe]).await.unwrap();
    let err = fs::read_to_string(&a).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
}

#[smp_rt::test]
async fn links_permissions_and_canonical_paths() {
    let dir = TempDir::new();
    let target = dir.join("target");
    fs::write(&target, "x").await.unwrap();

    let link = dir.join("link");
    fs::symlink(&target, &link).await.unwrap();
    assert_eq!(fs::read_link(&link).await.unwrap(), target);
    assert!(
        fs::symlink_metadata(&link)
            .await
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(fs::metadata(&link).await.unwrap().is_file());
    assert_eq!(
        fs::canonicalize(&link).await.unwrap(),
        std::fs::canonicalize(&target).unwrap()
    );

    let hard = dir.join("hard");
    fs::hard_link(&target, &hard).await.unwrap();
    assert_eq!(fs::read(&hard).await.unwrap(), b"x");

    let mut perm = fs::metadata(&target).await.unwrap().permissions();
    perm.set_readonly(true);
    fs::set_permissions(&target, perm).await.unwrap();
    assert!(
        fs::metadata(&target)
            .await
            .unwrap()
            .permissions()
            .readonly()
    );
}

#[smp_rt::test]
async fn directories_and_their_entries() {
    let dir = TempDir::new();
    let nested = dir.join("a/b/c");
    let err = fs::create_dir(&nested).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    fs::create_dir_all(&nested).await.unwrap();
    fs::create_dir_all(&nested).await.unwrap();
    let err = fs::create_dir(&nested).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);

    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.join("d/e"))
        .await
        .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.join("d/e"))
            .await
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let err = DirBuilder::new().create(dir.join("f/g")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // More entries than one blocking batch reads.
    let listed = dir.join("listed");
    fs::create_dir(&listed).await.unwrap();
    let mut expected = Vec::new();
    for i in 0..75 {
        let name = format!("file-{i:02}");
        fs::write(listed.join(&name), []).await.unwrap();
        expected.push(name);
    }
    fs::create_dir(listed.join("sub")).await.unwrap();
    expected.push("sub".into());
    expected.sort();

    let mut entries = fs::read_dir(&listed).await.unwrap();
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await.unwrap() {
        let name = entry.file_name().into_string().unwrap();
        assert_eq!(entry.path(), listed.join(&name));
        let is_dir = entry.file_type().await.unwrap().is_dir();
        assert_eq!(is_dir, name == "sub", "{name}");
        assert_eq!(entry.metadata().await.unwrap().is_dir(), is_dir);
        names.push(name);
    }
    assert!(entries.next_entry().await.unwrap().is_none());
    names.sort();
    assert_eq!(names, expected);

    let err = fs::remove_dir(&listed).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DirectoryNotEmpty);
    fs::remove_dir_all(&listed).await.unwrap();
    fs::remove_dir(dir.join("a/b/c")).await.unwrap();
    assert!(!fs::try_exists(dir.join("a/b/c")).await.unwrap());
    let err = fs::read_dir(dir.join("missing")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[smp_rt::test]
async fn write_then_flush_then_metadata_counts_every_byte() {
    let dir = TempDir::new();
    let path = dir.join("w");
    let mut file = File::create(&path).await.unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    for chunk in data.chunks(10_000) {
        write_all(&mut file, chunk).await.unwrap();
    }
    flush(&mut file).await.unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), data.len() as u64);
    drop(file);
    assert_eq!(fs::read(&path).await.unwrap(), data);
}

#[smp_rt::test]
async fn a_write_takes_at_most_max_buf_size_bytes() {
    let dir = TempDir::new();
    let path = dir.join("small");
    let mut file = File::create(&path).await.unwrap();
    assert_eq!(file.max_buf_size(), 2 * 1024 * 1024);
    file.set_max_buf_size(3);
    let n = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"0123456789"))
        .await
        .unwrap();
    assert_eq!(n, 3);
    write_all(&mut file, b"3456789").await.unwrap();
    flush(&mut file).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"0123456789");

    let mut file = File::open(&path).await.unwrap();
    file.set_max_buf_size(4);
    assert_eq!(read_some(&mut file, 10).await.unwrap(), b"0123");
}

#[test]
#[should_panic(expected = "File::set_max_buf_size(0)")]
fn a_zero_max_buf_size_panics() {
    smp_rt::block_on(async {
        let path = std::env::temp_dir().join(format!("smp_rt-fs-zero-{}", std::process::id()));
        let mut file = File::create(&path).await.unwrap();
        let _ = std::fs::remove_file(&path);
        file.set_max_buf_size(0);
    });
}

#[smp_rt::test]
async fn seek_then_read_and_write_at_the_readers_position() {
    let dir = TempDir::new();
    let path = dir.join("s");
    fs::write(&path, "0123456789").await.unwrap();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();

    assert_eq!(seek(&mut file, SeekFrom::Start(5)).await.unwrap(), 5);
    assert_eq!(read_to_end(&mut file).await.unwrap(), b"56789");
    assert_eq!(seek(&mut file, SeekFrom::End(-3)).await.unwrap(), 7);
    assert_eq!(read_some(&mut file, 2).await.unwrap(), b"78");
    assert_eq!(seek(&mut file, SeekFrom::Current(-4)).await.unwrap(), 5);

    assert_eq!(seek(&mut file, SeekFrom::Start(0)).await.unwrap(), 0);
    assert_eq!(read_some(&mut file, 4).await.unwrap(), b"0123");
    write_all(&mut file, b"XY").await.unwrap();
    flush(&mut file).await.unwrap();
    assert_eq!(seek(&mut file, SeekFrom::Current(0)).await.unwrap(), 6);
    assert_eq!(fs::read(&path).await.unwrap(), b"0123XY6789");
}

#[smp_rt::test]
async fn bytes_read_ahead_are_given_back_before_a_seek_or_a_write() {
    let dir = TempDir::new();
    let path = dir.join("ahead");
    fs::write(&path, "0123456789").await.unwrap();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    // A read started for 10 bytes and completed by a poll with room for
    // 3 leaves 7 read ahead (if the first poll already completes it, the
    // reader simply got all 10).
    let mut big = [0; 10];
    let mut small = [0; 3];
    let mut started = false;
    let first = poll_fn(|cx| {
        if !started {
            started = true;
            let mut buf = ReadBuf::new(&mut big);
            if let Poll::Ready(result) = Pin::new(&mut file).poll_read(cx, &mut buf) {
                result.unwrap();
                return Poll::Ready(buf.filled().to_vec());
            }
            return Poll::Pending;
        }
        let mut buf = ReadBuf::new(&mut small);
        match Pin::new(&mut file).poll_read(cx, &mut buf) {
            Poll::Ready(result) => {
                result.unwrap();
                Poll::Ready(buf.filled().to_vec())
            }
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    let returned = first.len() as u64;
    assert!(returned == 3 || returned == 10, "{first:?}");
    assert_eq!(first, &b"0123456789"[..first.len()]);

    assert_eq!(
        seek(&mut file, SeekFrom::Current(0)).await.unwrap(),
        returned
    );
    write_all(&mut file, b"!").await.unwrap();
    flush(&mut file).await.unwrap();
    let mut expected = b"0123456789".to_vec();
    if returned < 10 {
        expected[returned as usize] = b'!';
    } else {
        expected.push(b'!');
    }
    assert_eq!(fs::read(&path).await.unwrap(), expected);
}

#[smp_rt::test]
async fn a_failed_background_write_is_reported_by_flush() {
    let dir = TempDir::new();
    let path = dir.join("ro");
    fs::write(&path, "data").await.unwrap();
    // Open for reading only: the write itself fails on the blocking pool.
    let mut file = File::open(&path).await.unwrap();
    let n = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"more"))
        .await
        .unwrap();
    assert_eq!(n, 4, "a write returns once buffered");
    assert!(flush(&mut file).await.is_err());
    // Reported once.
    flush(&mut file).await.unwrap();

    let n = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"more"))
        .await
        .unwrap();
    assert_eq!(n, 4);
    // The next write waits for the failed one and reports it.
    let err = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"again")).await;
    assert!(err.is_err());
    assert_eq!(fs::read(&path).await.unwrap(), b"data");
}

#[smp_rt::test]
async fn start_seek_during_an_operation_is_an_error() {
    let dir = TempDir::new();
    let path = dir.join("busy");
    let mut file = File::create(&path).await.unwrap();
    poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"abc"))
        .await
        .unwrap();
    // The write is in flight until something waits for it.
    let err = Pin::new(&mut file)
        .start_seek(SeekFrom::Start(0))
        .unwrap_err();
    assert!(err.to_string().contains("poll_complete"), "{err}");
    // `poll_complete` waits for the write; then the seek goes through.
    assert_eq!(seek(&mut file, SeekFrom::Start(1)).await.unwrap(), 1);
    assert_eq!(seek(&mut file, SeekFrom::End(0)).await.unwrap(), 3);
}

#[smp_rt::test]
async fn open_options_create_new_append_truncate_and_mode() {
    let dir = TempDir::new();
    let path = dir.join("opts");
    let err = File::open(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let mut file = File::create_new(&path).await.unwrap();
    write_all(&mut file, b"one").await.unwrap();
    flush(&mut file).await.unwrap();
    let err = File::create_new(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);

    let mut file = OpenOptions::new().append(true).open(&path).await.unwrap();
    write_all(&mut file, b"two").await.unwrap();
    flush(&mut file).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"onetwo");

    let file = File::options()
        .write(true)
        .truncate(true)
        .open(&path)
        .await
        .unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), 0);

    let err = OpenOptions::new().open(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let private = dir.join("private");
    let nofollow = libc::O_NOFOLLOW;
    let _file = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(nofollow)
        .open(&private)
        .await
        .unwrap();
    let link = dir.join("link");
    fs::symlink(&private, &link).await.unwrap();
    OpenOptions::new().read(true).open(&link).await.unwrap();
    let err = OpenOptions::new()
        .read(true)
        .custom_flags(nofollow)
        .open(&link)
        .await
        .unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(rustix::io::Errno::LOOP.raw_os_error())
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&private).await.unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[smp_rt::test]
async fn set_len_sync_clone_and_std_conversions() {
    let dir = TempDir::new();
    let path = dir.join("len");
    let mut file = File::create(&path).await.unwrap();
    write_all(&mut file, b"0123456789").await.unwrap();
    // set_len waits for the write in flight.
    file.set_len(4).await.unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), 4);
    file.set_len(6).await.unwrap();
    file.sync_all().await.unwrap();
    file.sync_data().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"0123\0\0");

    let mut clone = file.try_clone().await.unwrap();
    // The clone shares the cursor, which the first write left at 10.
    assert_eq!(seek(&mut clone, SeekFrom::Current(0)).await.unwrap(), 10);

    let std = file.into_std().await;
    assert_eq!(std.metadata().unwrap().len(), 6);
    let mut file = File::from_std(std);
    write_all(&mut file, b"x").await.unwrap();
    let mut file = file.try_into_std().expect_err("a write is in flight");
    flush(&mut file).await.unwrap();
    let file = File::from(file.try_into_std().expect("nothing in flight"));

    let mut perm = file.metadata().await.unwrap().permissions();
    perm.set_readonly(true);
    file.set_permissions(perm).await.unwrap();
    assert!(fs::metadata(&path).await.unwrap().permissions().readonly());
}

#[test]
fn file_and_directory_polls_charge_reductions() {
    let dir = TempDir::new();
    let path = dir.join("reductions");
    std::fs::write(&path, "x").unwrap();
    let preemptions = preemptions_of(move || async move {
        let mut file = File::open(&path).await.unwrap();
        // Nothing in flight: every poll is ready at once, so only the
        // reductions it charges can end the slice.
        for _ in 0..300 {
            flush(&mut file).await.unwrap();
        }
    });
    assert!(preemptions > 0);

    let listed = dir.join("listed");
    std::fs::create_dir(&listed).unwrap();
    for i in 0..300 {
        std::fs::write(listed.join(i.to_string()), []).unwrap();
    }
    let preemptions = preemptions_of(move || async move {
        // Entries come in batches: most polls return one already read.
        // Spending the slice between them makes the next poll end it, with
        // entries left in the batch: none may be lost.
        let mut entries = fs::read_dir(&listed).await.unwrap();
        let mut n = 0;
        while entries.next_entry().await.unwrap().is_some() {
            n += 1;
            smp_rt::task::reduce(20);
        }
        assert_eq!(n, 300);
    });
    assert!(preemptions > 0);
}

#[smp_rt::test]
async fn the_futures_crates_traits_on_a_file() {
    use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    let dir = TempDir::new();
    let path = dir.join("futures");
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"futures io").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(file.seek(SeekFrom::Start(8)).await.unwrap(), 8);
    let mut tail = String::new();
    file.read_to_string(&mut tail).await.unwrap();
    assert_eq!(tail, "io");
    assert_eq!(file.seek(SeekFrom::Current(-4)).await.unwrap(), 6);
    file.write_all(b"IO").await.unwrap();
    file.close().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"futureIOio");
}

/// tokio's traits, with the `tokio-io` feature (on for this crate's tests).
#[smp_rt::test]
async fn tokios_traits_on_a_file() {
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    let dir = TempDir::new();
    let path = dir.join("tokio");
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"tokio io").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).await.unwrap();
    assert_eq!(tail, b"io");
    assert_eq!(file.stream_position().await.unwrap(), 8);
}

#[test]
#[should_panic(expected = "spawn_blocking")]
fn fs_outside_a_runtime_panics_saying_why() {
    let _ = futures::executor::block_on(fs::read("/nonexistent"));
}

/// smp_rt's own extension traits: `seek` waits for the write in flight
/// (a bare `start_seek` would refuse to start).
#[smp_rt::test]
async fn smp_rt_extension_traits_on_a_file() {
    use smp_rt::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    let dir = TempDir::new();
    let path = dir.join("ext");
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"extension").await.unwrap();
    assert_eq!(file.seek(SeekFrom::Start(3)).await.unwrap(), 3);
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"ension");
    assert_eq!(file.stream_position().await.unwrap(), 9);
    file.shutdown().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "extension");
}

#[smp_rt::test]
async fn set_times_waits_for_the_write_in_flight_and_sets_the_stamps() {
    use std::time::{Duration, SystemTime};

    let dir = TempDir::new();
    let path = dir.join("stamped");
    let mut file = File::create(&path).await.unwrap();
    write_all(&mut file, b"written before the stamp")
        .await
        .unwrap();
    let accessed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    file.set_times(
        fs::FileTimes::new()
            .set_accessed(accessed)
            .set_modified(modified),
    )
    .await
    .unwrap();
    // The write was done before the stamps: it is all there, and it did
    // not move the modification time afterwards.
    let meta = fs::metadata(&path).await.unwrap();
    assert_eq!(meta.len(), 24);
    assert_eq!(meta.modified().unwrap(), modified);
    assert_eq!(meta.accessed().unwrap(), accessed);
    let later = modified + Duration::from_secs(60);
    file.set_modified(later).await.unwrap();
    assert_eq!(
        fs::metadata(&path).await.unwrap().modified().unwrap(),
        later
    );
}

#[smp_rt::test]
async fn a_file_from_a_raw_descriptor_owns_it() {
    use std::os::fd::{FromRawFd, IntoRawFd};

    let dir = TempDir::new();
    let path = dir.join("raw");
    std::fs::write(&path, b"raw bytes").unwrap();
    let fd = std::fs::File::open(&path).unwrap().into_raw_fd();
    // SAFETY: `fd` is open and nothing else owns it.
    let mut file = unsafe { File::from_raw_fd(fd) };
    assert_eq!(read_to_end(&mut file).await.unwrap(), b"raw bytes");
}
