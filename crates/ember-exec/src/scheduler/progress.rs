//! The console progress bar: one bar per active stage, as spark-submit
//! draws it (`[Stage 3:=====>   (7 + 2) / 12]`), fed by the listener bus.
//! It draws only on a terminal and only with `spark.ui.showConsoleProgress`.

use std::collections::BTreeMap;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::broadcast::error::RecvError;

use super::events::{ListenerBus, SparkListenerEvent};

struct StageBar {
    bar: ProgressBar,
    done: u64,
    running: u64,
}

/// Draws the bars until the bus closes.
pub fn spawn(bus: &ListenerBus) {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("[Stage {prefix}:{wide_bar}({msg}) / {len}]")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let mut bars: BTreeMap<(u64, u32), StageBar> = BTreeMap::new();
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            match event {
                SparkListenerEvent::StageSubmitted { stage_id, attempt, num_tasks, .. } => {
                    let bar = ProgressBar::hidden();
                    bar.set_length(num_tasks as u64);
                    bar.set_style(style.clone());
                    bar.set_prefix(stage_id.to_string());
                    bar.set_message("0 + 0");
                    let bar = multi.add(bar);
                    bars.insert((stage_id, attempt), StageBar { bar, done: 0, running: 0 });
                }
                SparkListenerEvent::TaskStart { stage_id, attempt, .. } => {
                    if let Some(b) = bars.get_mut(&(stage_id, attempt)) {
                        b.running += 1;
                        b.bar.set_message(format!("{} + {}", b.done, b.running));
                    }
                }
                SparkListenerEvent::TaskEnd { stage_id, attempt, reason, .. } => {
                    if let Some(b) = bars.get_mut(&(stage_id, attempt)) {
                        b.running = b.running.saturating_sub(1);
                        if reason == "Success" {
                            b.done += 1;
                            b.bar.set_position(b.done);
                        }
                        b.bar.set_message(format!("{} + {}", b.done, b.running));
                    }
                }
                SparkListenerEvent::StageCompleted { stage_id, attempt, .. } => {
                    if let Some(b) = bars.remove(&(stage_id, attempt)) {
                        b.bar.finish_and_clear();
                        multi.remove(&b.bar);
                    }
                }
                _ => {}
            }
        }
    });
}
