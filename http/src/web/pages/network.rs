//! `/network`: this node's peers and counters.

use axum::extract::State as Ax;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::{column_heads, empty, short};
use crate::web::i18n::{self, number};
use crate::web::{PageCtx, PageError, WebState, error_page, layout};

pub async fn page(Ax(st): Ax<WebState>, ctx: PageCtx) -> Response {
    let (status, peers) = match (st.handle.status().await, st.handle.peers().await) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) | (_, Err(e)) => return error_page(&ctx, &PageError::Internal(e.to_string())),
    };
    let n = |v: u64| number(ctx.lang, v);
    let counters = [
        ("network.peers", n(status.peers as u64)),
        ("network.documents", n(status.documents as u64)),
        ("network.records", n(status.records as u64)),
        ("network.pending", n(status.pending as u64)),
        ("network.rejected", n(status.rejected)),
        ("network.sync_passes", n(status.sync_passes)),
        ("network.sync_requests", n(status.sync_requests)),
        ("network.bytes_sent", n(status.sync_bytes_sent)),
        ("network.bytes_received", n(status.sync_bytes_received)),
    ];
    let body = html! {
        h1 { (ctx.t("network.title")) }
        p.lead { (ctx.t("network.lead")) }
        dl.facts.panel {
            dt { (ctx.t("network.member")) }
            dd { a href={ "/members/" (status.member) } { code { (short(&status.member)) "…" } } }
            dt { (ctx.t("network.peer_id")) } dd { code.wrap { (status.peer_id) } }
            dt { (ctx.t("network.listen")) }
            dd { @for a in &status.listen { code.wrap { (a) } br; } }
        }
        h2 { (ctx.t("network.counters")) }
        ul.stats.small {
            @for (key, v) in &counters {
                li { strong { (v) } span { (ctx.t(key)) } }
            }
        }
        h2 { (ctx.t("network.peer_list")) " (" (n(peers.len() as u64)) ")" }
        @if peers.is_empty() {
            (empty(&ctx, "network.no_peers"))
        } @else {
            table.list {
                (column_heads(&ctx, &["network.peer_id", "network.address", "network.since"]))
                tbody {
                    @for p in &peers {
                        tr {
                            td { code.wrap { (p.peer_id) } }
                            td { code.wrap { (p.address) } }
                            td { (i18n::date(ctx.lang, p.connected_since)) }
                        }
                    }
                }
            }
        }
    };
    layout::page(&ctx, ctx.t("network.title"), body).into_response()
}
