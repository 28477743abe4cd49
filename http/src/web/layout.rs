//! The page frame every HTML page shares ([`page`]), and [`PageCtx`], what a
//! page needs to know about the request: language, session, path.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use maud::{DOCTYPE, Markup, html};

use super::auth::Sessions;
use super::i18n::{self, Key, Lang};

/// What a page knows of its request.
#[derive(Debug, Clone, Default)]
pub struct PageCtx {
    pub lang: Lang,
    pub signed_in: bool,
    /// The session's CSRF token, for forms (`None` when signed out).
    pub csrf: Option<String>,
    /// The request's path and query, without any `lang` parameter
    /// (for the language switch and for "come back here" redirects).
    pub path: String,
}

impl PageCtx {
    /// The text of `key` in the page's language.
    pub fn t(&self, key: Key) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// `path` with `lang=<code>` added to its query.
    pub fn lang_href(&self, lang: Lang) -> String {
        let sep = if self.path.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={}", self.path, lang.code())
    }
}

/// The `lang` value of a query string, if it names a supported language.
pub fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The request's language: `?lang=`, else the `lang` cookie, else
/// `Accept-Language`, else English.
pub fn request_lang(headers: &HeaderMap, query: Option<&str>) -> Lang {
    query_lang(query)
        .or_else(|| cookie(headers, "lang").and_then(Lang::parse))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

fn path_without_lang(path: &str, query: Option<&str>) -> String {
    let rest: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang=") && *kv != "lang")
        .collect();
    if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", rest.join("&"))
    }
}

impl PageCtx {
    /// Builds the context of a request.
    pub fn from_parts(parts: &Parts, sessions: &Sessions) -> Self {
        let query = parts.uri.query();
        let session = sessions.session(&parts.headers);
        PageCtx {
            lang: request_lang(&parts.headers, query),
            signed_in: session.is_some(),
            csrf: session.map(|s| s.csrf),
            path: path_without_lang(parts.uri.path(), query),
        }
    }
}

impl<S> FromRequestParts<S> for PageCtx
where
    S: Send + Sync,
    Sessions: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageCtx::from_parts(parts, &Sessions::from_ref(state)))
    }
}

/// A full HTML document: header (brand, navigation, search, language
/// switch, session), `body` in `<main>`, footer.
pub fn page(ctx: &PageCtx, title: &str, body: Markup) -> Markup {
    let nav: [(&str, Key); 6] = [
        ("/", Key::NavHome),
        ("/needs", Key::NavNeeds),
        ("/projects", Key::NavProjects),
        ("/catalogues", Key::NavCatalogues),
        ("/members", Key::NavMembers),
        ("/network", Key::NavNetwork),
    ];
    let here = ctx.path.split('?').next().unwrap_or("/");
    let current = |href: &str| {
        if href == "/" {
            here == "/"
        } else {
            here == href || here.starts_with(&format!("{href}/"))
        }
    };
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · mutu" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                a.skip href="#main" { (ctx.t(Key::NavSkip)) }
                header.site {
                    div.bar {
                        a.brand href="/" {
                            span.logo aria-hidden="true" { "◐" }
                            span { (ctx.t(Key::SiteName)) }
                        }
                        form.search role="search" action="/search" method="get" {
                            label.sr for="site-q" { (ctx.t(Key::SearchLabel)) }
                            input #site-q type="search" name="q" placeholder=(ctx.t(Key::SearchPlaceholder));
                            button type="submit" { (ctx.t(Key::NavSearch)) }
                        }
                        div.account {
                            @if ctx.signed_in {
                                a.button href="/needs/new" { (ctx.t(Key::NeedNew)) }
                                a href="/inbox" { (ctx.t(Key::InboxTitle)) }
                                span.signed { (ctx.t(Key::AuthSignedIn)) }
                                form.inline action="/logout" method="post" {
                                    @if let Some(csrf) = &ctx.csrf {
                                        input type="hidden" name="csrf" value=(csrf);
                                    }
                                    button.link type="submit" { (ctx.t(Key::AuthSignOut)) }
                                }
                            } @else {
                                a href={ "/login?next=" (urlencode(&ctx.path)) } { (ctx.t(Key::AuthSignIn)) }
                            }
                        }
                        nav.lang aria-label=(ctx.t(Key::NavLanguage)) {
                            @for lang in [Lang::En, Lang::Fr] {
                                @if lang == ctx.lang {
                                    span aria-current="true" lang=(lang.code()) { (lang.code().to_uppercase()) }
                                } @else {
                                    a href=(ctx.lang_href(lang)) hreflang=(lang.code()) lang=(lang.code()) {
                                        (lang.code().to_uppercase())
                                    }
                                }
                            }
                        }
                    }
                    nav.main aria-label=(ctx.t(Key::NavMain)) {
                        ul {
                            @for (href, key) in nav {
                                li {
                                    @if current(href) {
                                        a href=(href) aria-current="page" { (ctx.t(key)) }
                                    } @else {
                                        a href=(href) { (ctx.t(key)) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main { (body) }
                footer.site {
                    p { (ctx.t(Key::SiteTagline)) ". " (ctx.t(Key::FooterText)) }
                    p { a href="/api/v1/openapi.json" { (ctx.t(Key::FooterApi)) } }
                }
            }
        }
    }
}

/// Percent-encodes `s` for a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_query_then_cookie_then_header() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9".parse().unwrap());
        assert_eq!(request_lang(&h, None), Lang::Fr);
        h.insert(header::COOKIE, "a=b; lang=en".parse().unwrap());
        assert_eq!(request_lang(&h, None), Lang::En);
        assert_eq!(request_lang(&h, Some("x=1&lang=fr")), Lang::Fr);
        assert_eq!(request_lang(&HeaderMap::new(), None), Lang::En);
    }

    #[test]
    fn the_language_switch_keeps_the_query() {
        assert_eq!(
            path_without_lang("/needs", Some("tag=a&lang=fr&sort=new")),
            "/needs?tag=a&sort=new"
        );
        let ctx = PageCtx {
            path: "/needs?tag=a".into(),
            ..PageCtx::default()
        };
        assert_eq!(ctx.lang_href(Lang::Fr), "/needs?tag=a&lang=fr");
    }
}
