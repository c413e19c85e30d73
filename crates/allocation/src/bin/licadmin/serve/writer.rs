//! The server's one writer: a thread that takes every queued logon, heartbeat, logoff and
//! checkout and runs them together in one write transaction ([`Allocator::batch`]: a
//! savepoint each, one commit), then answers each. Under a burst of N requests the server
//! pays one commit instead of N, and the requests no longer queue one by one for the
//! allocator's connection.

use std::sync::mpsc;
use std::sync::Arc;

use allocation::{AllocError, Allocator, BatchDone, BatchOp};
use axum::http::StatusCode;
use tokio::sync::oneshot;

use super::{api_error_of, ApiError};

/// At most this many operations in one transaction (the rest wait for the next), so one
/// transaction never holds the store's writer lock for long.
pub const MAX_BATCH: usize = 128;

type Reply = oneshot::Sender<Result<Result<BatchDone, AllocError>, ApiError>>;

/// The handle requests send their operations through.
pub struct Writer {
    queue: mpsc::Sender<(BatchOp, Reply)>,
}

impl Writer {
    /// Start the writer thread on `alloc`; it ends when the last handle is dropped.
    pub fn start(alloc: Arc<Allocator>) -> Writer {
        let (queue, jobs) = mpsc::channel::<(BatchOp, Reply)>();
        let spawned = std::thread::Builder::new()
            .name("i3lic-writer".into())
            .spawn(move || {
                while let Ok(first) = jobs.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match jobs.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run(&alloc, batch);
                }
            });
        if let Err(e) = spawned {
            // Without its thread every change answers 500 (the queue's receiver is gone).
            tracing::error!(target: "i3lic::serve", "cannot start the writer thread: {e}");
        }
        Writer { queue }
    }

    /// Run `op` in the next batch: the operation's own result (as its `Allocator` method
    /// answers it), or the batch's error as an API error.
    pub async fn run(&self, op: BatchOp) -> Result<Result<BatchDone, AllocError>, ApiError> {
        let gone = || {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server's writer thread is gone",
            )
        };
        let (reply, answer) = oneshot::channel();
        self.queue.send((op, reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Run one batch and answer each request (a request whose client left is not answered).
fn run(alloc: &Allocator, batch: Vec<(BatchOp, Reply)>) {
    let (ops, replies): (Vec<BatchOp>, Vec<Reply>) = batch.into_iter().unzip();
    match alloc.batch(&ops) {
        Ok(results) => {
            for (reply, r) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(r));
            }
        }
        Err(e) => {
            let err = api_error_of(&e);
            for reply in replies {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }
}

/// The API error of an answer of an unexpected kind (never happens: each operation has one).
pub fn unexpected() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the writer answered with another kind of result",
    )
}
