//! `/network`: this node's peers and counters.

use axum::extract;
use axum::response::{IntoResponse, Response};
use maud::html;
use mutu_node::net::reach::{Path, Reachability};
use mutu_protocol::trust::Scope;

use super::{column_heads, empty, short};
use crate::web::i18n::{self, Key, number};
use crate::web::{PageCtx, PageError, WebState, error_page, layout};

pub async fn page(extract::State(st): extract::State<WebState>, ctx: PageCtx) -> Response {
    let (status, peers) = match (st.handle.status().await, st.handle.peers().await) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) | (_, Err(e)) => return error_page(&ctx, &PageError::Internal(e.to_string())),
    };
    let invitation = st.handle.invite().await.ok().flatten().map(|i| i.to_text());
    let n = |v: u64| number(ctx.lang, v);
    let counters = [
        (Key::NetworkPeers, n(status.peers as u64)),
        (Key::NetworkDocuments, n(status.documents as u64)),
        (Key::NetworkRecords, n(status.records as u64)),
        (Key::NetworkPending, n(status.pending as u64)),
        (Key::NetworkRejected, n(status.rejected)),
        (Key::NetworkSyncPasses, n(status.sync_passes)),
        (Key::NetworkSyncRequests, n(status.sync_requests)),
        (Key::NetworkBytesSent, n(status.sync_bytes_sent)),
        (Key::NetworkBytesReceived, n(status.sync_bytes_received)),
    ];
    let body = html! {
        h1 { (ctx.t(Key::NetworkTitle)) }
        p.lead { (ctx.t(Key::NetworkLead)) }
        dl.facts.panel {
            dt { (ctx.t(Key::NetworkMember)) }
            dd { a href={ "/members/" (status.member) } { code { (short(&status.member)) "…" } } }
            dt { (ctx.t(Key::NetworkPeerId)) } dd { code.wrap { (status.peer_id) } }
            dt { (ctx.t(Key::NetworkListen)) }
            dd { @for a in &status.listen { code.wrap { (a) } br; } }
            @if let Some(r) = &status.reach {
                dt { (ctx.t(Key::NetworkReachability)) }
                dd {
                    (ctx.t(match r.reachability {
                        Reachability::Public => Key::NetworkPublic,
                        Reachability::Private => Key::NetworkPrivate,
                        Reachability::Unknown => Key::NetworkUnknown,
                    }))
                }
                @if !r.external.is_empty() {
                    dt { (ctx.t(Key::NetworkExternal)) }
                    dd { @for a in &r.external { code.wrap { (a) } br; } }
                }
                @if !r.relays.is_empty() {
                    dt { (ctx.t(Key::NetworkRelays)) }
                    dd { @for a in &r.relays { code.wrap { (a) } br; } }
                }
            }
            @if let Some(text) = &invitation {
                dt { (ctx.t(Key::NetworkInvitation)) }
                dd {
                    code.wrap.invitation { (text) }
                    @if let Some(svg) = qr_svg(text) {
                        div.qr role="img" aria-label=(ctx.t(Key::NetworkInvitation)) { (maud::PreEscaped(svg)) }
                    }
                    p.muted.small { (ctx.t(Key::NetworkInvitationHelp)) }
                }
            }
        }
        @if let Some(c) = &status.catch_up {
            h2 { (ctx.t(Key::NetworkCatchUp)) }
            progress.catch-up value=(c.documents_fetched) max=(c.documents_announced.max(1)) {
                (n(c.documents_fetched as u64)) " / " (n(c.documents_announced as u64))
            }
            ul.stats.small {
                li {
                    strong { (n(c.documents_fetched as u64)) " / " (n(c.documents_announced as u64)) }
                    span { (ctx.t(Key::NetworkDocumentsFetched)) }
                }
                li { strong { (n(c.records_fetched as u64)) } span { (ctx.t(Key::NetworkRecordsFetched)) } }
                li { strong { (n(c.records_per_s.round() as u64)) } span { (ctx.t(Key::NetworkRecordsPerSecond)) } }
                @if let Some(left) = c.eta_s {
                    li { strong { (n(left.ceil() as u64)) } span { (ctx.t(Key::NetworkSecondsLeft)) } }
                }
            }
        }
        h2 { (ctx.t(Key::NetworkCounters)) }
        ul.stats.small {
            @for (key, v) in &counters {
                li { strong { (v) } span { (ctx.t(*key)) } }
            }
        }
        @if let Some(r) = &status.replication {
            h2 { (ctx.t(Key::NetworkReplication)) }
            dl.facts.panel {
                dt { (ctx.t(Key::NetworkScope)) }
                dd {
                    (ctx.t(match r.scope {
                        Scope::Trusted => Key::NetworkScopeTrusted,
                        _ => Key::NetworkScopeOpen,
                    }))
                }
                dt { (ctx.t(Key::NetworkHops)) } dd { (n(u64::from(r.hops))) }
            }
            @if ctx.signed_in {
                form.policy method="post" action="/network/policy" {
                    input type="hidden" name=(crate::web::auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
                    label for="policy-scope" { (ctx.t(Key::NetworkScope)) }
                    select #policy-scope name="scope" {
                        option value="open" selected[r.scope == Scope::Open] { (ctx.t(Key::NetworkScopeOpen)) }
                        option value="trusted" selected[r.scope == Scope::Trusted] { (ctx.t(Key::NetworkScopeTrusted)) }
                    }
                    label for="policy-hops" { (ctx.t(Key::NetworkHops)) }
                    input #policy-hops type="number" name="hops" min="0" max=(mutu_protocol::trust::MAX_HOPS) value=(r.hops);
                    button type="submit" { (ctx.t(Key::FormSave)) }
                }
                p.muted.small { (ctx.t(Key::NetworkPolicySaved)) }
            }
            ul.stats.small {
                li { strong { (n(r.trusted as u64)) } span { (ctx.t(Key::NetworkTrusted)) } }
                li { strong { (n(r.stranger_bytes)) } span { (ctx.t(Key::NetworkStrangerBytes)) } }
                li { strong { (n(r.ignored.untrusted)) } span { (ctx.t(Key::NetworkIgnoredUntrusted)) } }
                li { strong { (n(r.ignored.total() - r.ignored.untrusted)) } span { (ctx.t(Key::NetworkIgnoredQuota)) } }
                li { strong { (n(r.gossip_rate_limited)) } span { (ctx.t(Key::NetworkGossipLimited)) } }
            }
            p.muted.small { (ctx.t(Key::NetworkAsSeen)) }
            @if !r.inbox.is_empty() {
                h3 { (ctx.t(Key::NetworkInbox)) " (" (n(r.inbox.len() as u64)) ")" }
                p.muted.small { (ctx.t(Key::NetworkInboxHelp)) }
                ul {
                    @for m in &r.inbox {
                        li { a href={ "/members/" (m) } { code { (short(m)) "…" } } }
                    }
                }
            }
        }
        h2 { (ctx.t(Key::NetworkPeerList)) " (" (n(peers.len() as u64)) ")" }
        @if peers.is_empty() {
            (empty(&ctx, Key::NetworkNoPeers))
        } @else {
            table.list {
                (column_heads(&ctx, &[Key::NetworkPeerId, Key::NetworkAddress, Key::NetworkConnection, Key::NetworkSince]))
                tbody {
                    @for p in &peers {
                        tr {
                            td { code.wrap { (p.peer_id) } }
                            td { code.wrap { (p.address) } }
                            td {
                                @match p.connection {
                                    Some(Path::Direct) => (ctx.t(Key::NetworkDirect)),
                                    Some(Path::Relayed) => (ctx.t(Key::NetworkRelayed)),
                                    None => "",
                                }
                            }
                            td { (i18n::date(ctx.lang, p.connected_since)) }
                        }
                    }
                }
            }
        }
    };
    layout::page(&ctx, ctx.t(Key::NetworkTitle), body).into_response()
}

/// `text` as a QR code, inline SVG without the XML declaration; `None` if
/// it does not fit a QR code (an invitation is bounded well below that).
/// The SVG holds only the code's rectangles, never `text` itself.
fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    svg.find("<svg").map(|at| svg[at..].to_owned())
}

#[cfg(test)]
mod qr_tests {
    /// An invitation becomes an inline SVG QR code (no XML declaration);
    /// text too long for any QR code gives none.
    #[test]
    fn an_invitation_renders_as_an_inline_svg_qr_code() {
        let svg = super::qr_svg("mutu1:example-invitation-text").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert!(!svg.contains("mutu1:"));
        assert!(super::qr_svg(&"x".repeat(8_000)).is_none());
    }
}
