//! Webhooks: each inbox event (see [`mutu_protocol::inbox`]) POSTed as JSON
//! to the URLs the operator names in `config.toml`, so an association pipes
//! them into its chat or mail:
//!
//! ```toml
//! [webhooks]
//! urls = ["http://127.0.0.1:8080/mutu"]
//! ```
//!
//! A poller takes a snapshot every [`Config::poll`], derives the events and
//! queues those it has not queued before: at start, the events up to the
//! cursor kept in the watch file (`delivered_until`) count as sent (on a
//! first start, all current ones: no flood of old news), so events that
//! came while the node was down are sent after a restart. Each URL has its
//! own worker and a queue of at most [`Config::queue`] events (the oldest
//! is dropped, and counted, when a receiver stays away longer). A failed
//! POST (no answer within [`Config::timeout`], or a status other than
//! 2xx) is retried with exponential backoff from [`Config::backoff`] up to
//! [`Config::backoff_max`]; events go out in order, each once it is taken.
//!
//! The body is `{"member": "<this node's member>", "event": {…}}`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mutu_node::actor::Handle;
use mutu_node::state;
use mutu_node::watch;
use mutu_protocol::MemberId;
use mutu_protocol::inbox::Event;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify};

/// At most this many webhook URLs.
pub const MAX_URLS: usize = 16;

/// `[webhooks]` in `config.toml`.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub urls: Vec<String>,
}

/// How the webhooks run.
#[derive(Debug, Clone)]
pub struct Config {
    pub urls: Vec<String>,
    /// How often the inbox is looked at.
    pub poll: Duration,
    /// How long a receiver has to answer one POST.
    pub timeout: Duration,
    /// The first wait after a failure; doubled after each.
    pub backoff: Duration,
    pub backoff_max: Duration,
    /// Events waiting per URL, at most.
    pub queue: usize,
}

impl Default for Config {
    /// No URL: nothing runs.
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            poll: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            backoff: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            queue: 1_000,
        }
    }
}

impl Config {
    /// The defaults for `urls`, each checked: `http://` or `https://`, at
    /// most [`MAX_URLS`].
    pub fn new(urls: Vec<String>) -> Result<Self, String> {
        if urls.len() > MAX_URLS {
            return Err(format!("{} urls given, at most {MAX_URLS}", urls.len()));
        }
        for u in &urls {
            let ok = (u.starts_with("http://") || u.starts_with("https://")) && u.len() <= 2048;
            if !ok || u.parse::<axum::http::Uri>().is_err() {
                return Err(format!("`{u}` is not an http:// or https:// URL"));
            }
        }
        Ok(Self {
            urls,
            ..Self::default()
        })
    }
}

/// What the webhooks did, for tests and metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Looks at the inbox the poller has made.
    pub looks: AtomicU64,
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub dropped: AtomicU64,
}

/// One URL's queue.
struct Queue {
    events: Mutex<VecDeque<Event>>,
    ready: Notify,
}

#[derive(Serialize)]
struct Body<'a> {
    member: MemberId,
    event: &'a Event,
}

/// Starts the poller and one worker per URL; they stop when the actor does.
pub fn spawn(handle: Handle, config: Config) -> Arc<Counters> {
    let counters = Arc::new(Counters::default());
    if config.urls.is_empty() {
        return counters;
    }
    let queues: Vec<Arc<Queue>> = config
        .urls
        .iter()
        .map(|_| {
            Arc::new(Queue {
                events: Mutex::new(VecDeque::new()),
                ready: Notify::new(),
            })
        })
        .collect();
    let agent: ureq::Agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(true)
            .build(),
    );
    for (url, queue) in config.urls.iter().zip(&queues) {
        tokio::spawn(deliver(
            handle.clone(),
            agent.clone(),
            url.clone(),
            queue.clone(),
            config.clone(),
            counters.clone(),
        ));
    }
    tokio::spawn(poll(handle, queues, config, counters.clone()));
    counters
}

/// Queues new events for every URL, every `config.poll`.
async fn poll(handle: Handle, queues: Vec<Arc<Queue>>, config: Config, counters: Arc<Counters>) {
    // The ids of the events of the last look that went out: at most
    // `inbox::MAX_EVENTS`, as an event that leaves the newest ones does not
    // come back.
    let mut sent: Option<HashSet<String>> = None;
    let mut tick = tokio::time::interval(config.poll);
    loop {
        tick.tick().await;
        let now = state::now();
        let Ok(((list, events), home)) = handle
            .with_snapshot(move |s| (crate::control::watch::events(s, now), s.home().clone()))
            .await
        else {
            return; // the actor stopped
        };
        counters.looks.fetch_add(1, Ordering::Relaxed);
        let seen = sent.get_or_insert_with(|| {
            // First look: what is at or before the cursor went out before
            // (on a first start, everything there is now).
            let until = list.delivered_until.unwrap_or(now);
            events.iter().filter(|e| e.at <= until).map(|e| e.id.clone()).collect()
        });
        let mut new: Vec<&Event> = events.iter().filter(|e| !seen.contains(&e.id)).collect();
        *seen = events.iter().map(|e| e.id.clone()).collect();
        let Some(newest) = new.iter().map(|e| e.at).max() else {
            continue;
        };
        new.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        for q in &queues {
            let mut waiting = q.events.lock().await;
            for e in &new {
                if waiting.len() >= config.queue {
                    waiting.pop_front();
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
                waiting.push_back((*e).clone());
            }
            q.ready.notify_one();
        }
        let saved = tokio::task::spawn_blocking(move || {
            watch::update(&home, |l| {
                l.delivered_until = Some(l.delivered_until.map_or(newest, |d| d.max(newest)));
                Ok(())
            })
        })
        .await;
        if let Ok(Err(e)) = saved {
            tracing::warn!(error = %e, "cannot keep the webhooks' cursor");
        }
    }
}

/// Sends `queue`'s events to `url` in order, retrying each with backoff.
async fn deliver(
    handle: Handle,
    agent: ureq::Agent,
    url: String,
    queue: Arc<Queue>,
    config: Config,
    counters: Arc<Counters>,
) {
    let Ok(member) = handle.with_snapshot(|s| s.member_id()).await else {
        return;
    };
    loop {
        let next = queue.events.lock().await.front().cloned();
        let Some(event) = next else {
            // Woken by the poller, or now and then to notice a stopped node.
            let _ = tokio::time::timeout(config.poll * 5, queue.ready.notified()).await;
            if handle.is_closed() {
                return;
            }
            continue;
        };
        let body = match serde_json::to_vec(&Body { member, event: &event }) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "an event does not serialise: skipped");
                queue.events.lock().await.pop_front();
                continue;
            }
        };
        let mut wait = config.backoff;
        loop {
            let (agent, to) = (agent.clone(), url.clone());
            let body = body.clone();
            let sent = tokio::task::spawn_blocking(move || {
                agent
                    .post(&to)
                    .header("content-type", "application/json")
                    .send(&body[..])
                    .map(|_| ())
            })
            .await;
            match sent {
                Ok(Ok(())) => {
                    counters.delivered.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(Err(e)) => {
                    counters.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%url, error = %e, retry_in = ?wait, "webhook not delivered");
                }
                Err(_) => return, // the runtime is going down
            }
            if handle.is_closed() {
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(config.backoff_max);
        }
        let mut waiting = queue.events.lock().await;
        // The front is still the event sent unless the poller dropped it
        // (queue full) in the meantime.
        if waiting.front().is_some_and(|e| e.id == event.id) {
            waiting.pop_front();
        }
    }
}

#[cfg(test)]
mod tests;
