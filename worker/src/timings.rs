//! Where a request's time goes, for profiling (var `TIMINGS=on`): each adapter adds the time
//! it waited on the platform (D1, R2, the queue, the rate limiters) to its [`Spent`], and the
//! fetch entry logs one `timings` line with those and the whole request. The Workers clock only
//! moves while the isolate waits on I/O, so these are the platform's waits; what is left of
//! the client's latency is the runtime's and ours (parse, validate, respond, log).

use std::cell::Cell;
use std::future::Future;

/// Time spent waiting on one binding during one event, and how many calls.
#[derive(Default)]
pub struct Spent {
    ms: Cell<f64>,
    calls: Cell<u32>,
}

impl Spent {
    /// Awaits `call`, adding its duration to the total.
    pub async fn time<T>(&self, call: impl Future<Output = T>) -> T {
        let start = js_sys::Date::now();
        let out = call.await;
        self.ms.set(self.ms.get() + (js_sys::Date::now() - start));
        self.calls.set(self.calls.get() + 1);
        out
    }

    /// The total in milliseconds and the number of calls.
    pub fn figures(&self) -> (f64, u32) {
        (self.ms.get(), self.calls.get())
    }
}
