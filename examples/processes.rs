//! A supervised worker pool built from processes.
//!
//! Run it with `cargo run --example processes`.
//!
//! * A supervisor (one-for-one, at most 5 restarts in 10 seconds) starts a
//!   dispatcher, registered under the name `"dispatcher"`, and 4 workers.
//! * Each worker finds the dispatcher by name, asks it for a job, computes,
//!   reports the result, and asks again.
//! * Job 13 is a bad job: the worker that takes it panics. The supervisor
//!   sees the exit and starts a fresh worker in its place; the others carry
//!   on undisturbed.
//! * At the end, the supervisor reports its children and their restarts,
//!   and a worker's `process_info`.

use std::collections::VecDeque;
use std::time::Duration;

use smp_rt::process::supervisor::{self, ChildSpec, Strategy, Supervisor};
use smp_rt::process::{self, Mailbox, Pid};
use smp_rt::sync::mpsc;

const WORKERS: usize = 4;
const JOBS: u64 = 20;
const BAD_JOB: u64 = 13;

/// What the dispatcher receives.
enum Dispatch {
    /// A job to hand out.
    Job(u64),
    /// A worker is idle and wants a job.
    Ready(Pid<u64>),
}

/// What the processes report to `main`.
enum Event {
    Started {
        name: String,
        incarnation: usize,
    },
    Done {
        worker: String,
        job: u64,
        steps: u64,
    },
}

/// The dispatcher: queues jobs and idle workers, and pairs them up.
async fn dispatcher(mut mbox: Mailbox<Dispatch>) {
    let mut jobs = VecDeque::new();
    let mut idle: VecDeque<Pid<u64>> = VecDeque::new();
    loop {
        match mbox.recv().await {
            Dispatch::Job(job) => jobs.push_back(job),
            Dispatch::Ready(worker) => idle.push_back(worker),
        }
        while !jobs.is_empty() && !idle.is_empty() {
            let worker = idle.pop_front().unwrap();
            let job = jobs.pop_front().unwrap();
            // A worker that died while idle refuses the job: keep it.
            if let Err(refused) = worker.send(job) {
                jobs.push_front(refused.into_inner());
            }
        }
    }
}

/// A worker: asks the dispatcher for jobs until it dies.
async fn worker(name: String, mut mbox: Mailbox<u64>, events: mpsc::UnboundedSender<Event>) {
    let dispatcher = process::whereis::<Dispatch>("dispatcher").expect("the dispatcher runs");
    loop {
        dispatcher.send(Dispatch::Ready(mbox.pid())).unwrap();
        let job = mbox.recv().await;
        if job == BAD_JOB {
            panic!("{name} cannot do job {job}");
        }
        let _ = events.send(Event::Done {
            worker: name.clone(),
            job,
            steps: collatz_steps(job * 1_000_003),
        });
    }
}

fn collatz_steps(mut n: u64) -> u64 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

#[smp_rt::main(worker_threads = 4)]
async fn main() {
    // One line per panic, instead of the default report.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or("panic");
        println!("  !! {msg}");
    }));

    let (events_tx, mut events) = mpsc::unbounded_channel();

    let dispatcher_spec = {
        let events = events_tx.clone();
        let mut incarnation = 0;
        ChildSpec::new("dispatcher", move || {
            incarnation += 1;
            let pid = process::Builder::new()
                .name("dispatcher")
                .spawn_link(dispatcher);
            // Registered before the next child starts, so workers find it.
            process::register("dispatcher", &pid).expect("the name is free");
            let _ = events.send(Event::Started {
                name: "dispatcher".into(),
                incarnation,
            });
            pid
        })
    };
    let mut pool = Supervisor::new(Strategy::OneForOne)
        .intensity(5, Duration::from_secs(10))
        .name("pool")
        .child(dispatcher_spec);
    for i in 1..=WORKERS {
        let events = events_tx.clone();
        let name = format!("worker-{i}");
        let mut incarnation = 0;
        pool = pool.child(ChildSpec::new(name.clone(), move || {
            incarnation += 1;
            let _ = events.send(Event::Started {
                name: name.clone(),
                incarnation,
            });
            let (label, events) = (name.clone(), events.clone());
            process::Builder::new()
                .name(&name)
                .spawn_link(move |mbox| worker(label, mbox, events))
        }));
    }
    let pool = pool.spawn();

    // Wait for the children to start, then hand out the jobs.
    let mut started = 0;
    while started < 1 + WORKERS {
        if let Some(Event::Started { name, .. }) = events.recv().await {
            println!("[pool] started {name}");
            started += 1;
        }
    }
    let dispatcher = process::whereis::<Dispatch>("dispatcher").unwrap();
    for job in 1..=JOBS {
        dispatcher.send(Dispatch::Job(job)).unwrap();
    }

    // Every job but the bad one completes.
    let mut done = 0;
    while done < JOBS - 1 {
        match events.recv().await.expect("the pool runs") {
            Event::Done { worker, job, steps } => {
                println!("job {job:>2} done by {worker}: {steps} Collatz steps");
                done += 1;
            }
            Event::Started { name, incarnation } => {
                println!("[pool] restarted {name} (incarnation {incarnation})");
            }
        }
    }
    println!("all {done} good jobs done; job {BAD_JOB} died with its worker");
    while let Ok(Event::Started { name, incarnation }) = events.try_recv() {
        println!("[pool] restarted {name} (incarnation {incarnation})");
    }

    for child in supervisor::which_children(&pool).await.unwrap() {
        println!(
            "  child {:<10} pid {:<8} restarts {}",
            child.id,
            child
                .pid
                .as_ref()
                .map_or("-".to_string(), |p| p.id().to_string()),
            child.restarts
        );
    }
    let worker = process::whereis_any("dispatcher").unwrap();
    if let Some(info) = worker.info() {
        println!(
            "dispatcher: {} messages received, {} reductions, {} polls, priority {}",
            info.messages_received, info.reductions, info.polls, info.priority
        );
    }
    let reason = supervisor::stop(&pool).await;
    println!("[pool] stopped: {reason}");
}
