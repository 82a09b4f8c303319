//! Reductions: each slice has a budget; when it is spent the next charging
//! await point ends the slice and the task goes to the back of its queue.

use std::sync::{Arc, Mutex};

use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task;

fn single_worker(reductions: u32) -> Runtime {
    Builder::new_current_thread()
        .reductions(reductions)
        .build()
        .unwrap()
}

#[test]
fn a_busy_task_is_preempted_and_others_run_in_between() {
    let rt = single_worker(100);
    let log = Arc::new(Mutex::new(Vec::new()));
    let preemptions = rt.block_on(async {
        let l = log.clone();
        let busy = smp_rt::spawn(async move {
            for _ in 0..1000 {
                task::consume_budget().await;
            }
            l.lock().unwrap().push("busy done");
            task::stats().preemptions
        });
        let l = log.clone();
        let other = smp_rt::spawn(async move {
            l.lock().unwrap().push("other");
        });
        other.await.unwrap();
        busy.await.unwrap()
    });
    assert_eq!(*log.lock().unwrap(), vec!["other", "busy done"]);
    // A slice of 100: the poll charges 1, 99 `consume_budget` calls fit,
    // the 100th ends the slice. 1000 calls need 11 slices: 10 preemptions.
    assert_eq!(preemptions, 10);
    assert!(rt.metrics().worker_preempt_count(0) >= 10);
}

#[test]
fn the_default_budget_is_2000_reductions() {
    let rt = Builder::new_current_thread().build().unwrap();
    let stats = rt.block_on(async {
        smp_rt::spawn(async {
            for _ in 0..10_000 {
                task::consume_budget().await;
            }
            task::stats()
        })
        .await
        .unwrap()
    });
    // 1999 charges per slice: 10,000 need 6 slices, 5 of them preempted.
    assert_eq!(stats.preemptions, 5);
    assert_eq!(stats.polls, 5, "the running poll is not counted yet");
    assert_eq!(stats.reductions, 5 * 2000);
}

#[test]
fn unconstrained_is_never_preempted() {
    let rt = single_worker(smp_rt::runtime::MIN_REDUCTIONS);
    let log = Arc::new(Mutex::new(Vec::new()));
    let preemptions = rt.block_on(async {
        let l = log.clone();
        let busy = smp_rt::spawn(task::unconstrained(async move {
            for _ in 0..1000 {
                task::consume_budget().await;
            }
            l.lock().unwrap().push("busy done");
        }));
        let l = log.clone();
        let other = smp_rt::spawn(async move { l.lock().unwrap().push("other") });
        busy.await.unwrap();
        other.await.unwrap();
        rt_preemptions()
    });
    assert_eq!(*log.lock().unwrap(), vec!["busy done", "other"]);
    assert_eq!(preemptions, 0);
}

fn rt_preemptions() -> u64 {
    let m = smp_rt::runtime::Handle::current().metrics();
    (0..m.num_workers())
        .map(|w| m.worker_preempt_count(w))
        .sum()
}

#[test]
fn reduce_reports_a_spent_slice_and_the_next_await_point_yields() {
    let rt = single_worker(100);
    rt.block_on(async {
        smp_rt::spawn(async {
            // 99 left after the poll's own charge.
            assert!(!task::reduce(50));
            assert!(!task::reduce(48));
            assert!(task::reduce(1), "the slice is spent");
            assert!(task::reduce(5), "stays spent");
            let before = task::stats().polls;
            task::consume_budget().await; // ends the slice
            assert_eq!(task::stats().polls, before + 1);
            assert_eq!(task::stats().preemptions, 1);
            assert!(!task::reduce(1), "a fresh slice");
        })
        .await
        .unwrap();
    });
    assert!(
        !task::reduce(1_000_000),
        "outside a task nothing is charged"
    );
}

#[test]
fn yield_now_goes_to_the_back_of_the_queue() {
    let rt = single_worker(2000);
    let log = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let l = log.clone();
        let a = smp_rt::spawn(async move {
            l.lock().unwrap().push("a1");
            task::yield_now().await;
            l.lock().unwrap().push("a2");
        });
        let l = log.clone();
        let b = smp_rt::spawn(async move { l.lock().unwrap().push("b") });
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(*log.lock().unwrap(), vec!["a1", "b", "a2"]);
    // A yield is not a preemption.
    assert_eq!(rt.metrics().worker_preempt_count(0), 0);
}

#[test]
fn join_handles_charge_reductions() {
    let rt = single_worker(smp_rt::runtime::MIN_REDUCTIONS);
    let preemptions = rt.block_on(async {
        smp_rt::spawn(async {
            let done: Vec<_> = (0..400).map(|i| smp_rt::spawn(async move { i })).collect();
            // Let them all finish, so each await below is ready at once.
            task::yield_now().await;
            let mut sum = 0;
            for h in done {
                sum += h.await.unwrap();
            }
            assert_eq!(sum, 399 * 400 / 2);
            task::stats().preemptions
        })
        .await
        .unwrap()
    });
    // 400 awaits at one reduction each cannot fit in fewer than 6 slices
    // of the smallest size.
    assert!(preemptions >= 3, "only {preemptions} preemptions");
}

#[test]
fn preemption_spreads_a_busy_pair_fairly() {
    // Two CPU-bound tasks on one worker take turns slice by slice.
    let rt = single_worker(100);
    let log = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let log = log.clone();
                smp_rt::spawn(async move {
                    for round in 0..3u64 {
                        log.lock().unwrap().push(name);
                        // CPU-bound until this slice is cut.
                        let mut spins = 0;
                        while task::stats().preemptions == round {
                            task::consume_budget().await;
                            spins += 1;
                            assert!(spins <= 100, "a slice of 100 lasted {spins} charges");
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*log.lock().unwrap(), vec!["a", "b", "a", "b", "a", "b"]);
}

#[test]
fn coop_has_budget_remaining_follows_the_slice() {
    // Outside a slice: nothing is charged, there is always budget.
    assert!(task::coop::has_budget_remaining());
    let rt = single_worker(100);
    rt.block_on(async {
        smp_rt::spawn(async {
            assert!(task::coop::has_budget_remaining());
            task::reduce(10);
            assert!(task::coop::has_budget_remaining());
            task::reduce(1000);
            assert!(!task::coop::has_budget_remaining());
            task::coop::unconstrained(async {
                assert!(task::coop::has_budget_remaining(), "unconstrained");
            })
            .await;
            assert!(!task::coop::has_budget_remaining());
            task::coop::consume_budget().await; // ends the slice
            assert!(task::coop::has_budget_remaining(), "a new slice");
            assert!(task::stats().preemptions >= 1);
        })
        .await
        .unwrap();
    });
}

#[test]
fn coop_cooperative_charges_a_future_that_does_not() {
    let rt = single_worker(100);
    let (plain, wrapped) = rt.block_on(async {
        let plain = smp_rt::spawn(async {
            for _ in 0..1000 {
                std::future::ready(()).await; // never charges
            }
            task::stats().preemptions
        });
        let wrapped = smp_rt::spawn(async {
            for _ in 0..1000 {
                task::coop::cooperative(std::future::ready(())).await;
            }
            task::stats().preemptions
        });
        (plain.await.unwrap(), wrapped.await.unwrap())
    });
    assert_eq!(plain, 0);
    // A slice of 100: the poll charges 1, 99 wrapped polls fit, the 100th
    // ends the slice. 1000 of them need 11 slices: 10 preemptions.
    assert_eq!(wrapped, 10);
}

#[test]
fn coop_poll_proceed_charges_progress_and_gives_back_the_rest() {
    let rt = single_worker(100);
    let (idle, busy) = rt.block_on(async {
        // 1000 tries without progress: each reduction is given back, so
        // the slice never ends.
        let idle = smp_rt::spawn(async {
            std::future::poll_fn(|cx| {
                for _ in 0..1000 {
                    let restore = std::task::ready!(task::coop::poll_proceed(cx));
                    drop(restore);
                }
                std::task::Poll::Ready(())
            })
            .await;
            task::stats().preemptions
        });
        // 1000 steps of progress, one reduction each.
        let busy = smp_rt::spawn(async {
            let mut left = 1000;
            std::future::poll_fn(|cx| {
                while left > 0 {
                    let restore = std::task::ready!(task::coop::poll_proceed(cx));
                    left -= 1;
                    restore.made_progress();
                }
                std::task::Poll::Ready(())
            })
            .await;
            task::stats().preemptions
        });
        (idle.await.unwrap(), busy.await.unwrap())
    });
    assert_eq!(idle, 0);
    // As for `cooperative` above: 99 steps fit in the first slice, 100
    // in each of the next, so 1000 steps end 10 slices.
    assert_eq!(busy, 10);
}
