//! The web UI in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`).
//!
//! ```text
//!   `mutu demo`: association ── public body ── provider   (three nodes, loopback,
//!                     │                                    sample registry loaded)
//!                 browser
//! ```
//!
//! The browser opens the association's needs page, signs in with the
//! one-time login URL, creates a need through the form, and then sees that
//! need listed with its progress bar on the public body's node; then writes
//! a duplicate of a sample need, is shown the original before publishing,
//! publishes anyway and merges it from its page. Every page
//! it visits is saved as a PNG under `target/tmp/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Reaped, read_announced, spawn_piped};
use fantoccini::{Client, ClientBuilder, Locator};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn program(name: &str, env: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{name}` is not installed: `apt-get install chromium chromium-driver` (CI's .ci/run does it), or set {env}"
    );
}

struct Demo {
    _process: Reaped,
    web: Vec<String>,
    login: Vec<String>,
}

/// Starts `mutu demo` and reads the nodes' web and login URLs.
fn demo(dir: &Path) -> Demo {
    let (process, stdout) = spawn_piped(
        Command::new(BIN)
            .args(["demo", "--dir"])
            .arg(dir)
            .env_remove("MUTU_HOME"),
    );
    let (mut web, mut login) = (Vec::new(), Vec::new());
    read_announced(stdout, |line| {
        let line = line.trim();
        if let Some(url) = line.strip_prefix("web:") {
            web.push(url.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("login:") {
            login.push(rest.split_whitespace().next().unwrap().to_owned());
        }
        line.starts_with("Ctrl-C")
    });
    assert_eq!(web.len(), 3, "mutu demo announces three nodes");
    assert_eq!(login.len(), 3, "mutu demo prints a login URL per node");
    Demo {
        _process: process,
        web,
        login,
    }
}

async fn shot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Types `text` into the element `css` finds.
async fn fill(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// The element `css` finds once it is there: after a click that leads to
/// another page, what comes next must wait for that page, not find the old
/// one still shown.
async fn appears(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

/// Clicks the element `css` finds.
async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_made_in_the_browser_appears_on_another_node() {
    let chromium = program("chromium", "MUTU_CHROMIUM");
    let chromedriver = program("chromedriver", "MUTU_CHROMEDRIVER");
    let port = free_port();
    let _driver = Reaped(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let demo = demo(&dir.path().join("demo"));
    let profile = dir.path().join("chromium-profile");
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,1100", format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session with headless Chromium");

    // 1. The association's needs, from the sample registry, with progress bars.
    let (web1, web2) = (&demo.web[0], &demo.web[1]);
    client.goto(&format!("{web1}needs")).await.unwrap();
    assert!(!client.find_all(Locator::Css("progress")).await.unwrap().is_empty());
    shot(&client, "1-needs").await;

    // 2. Sign in with the one-time URL.
    client.goto(&demo.login[0]).await.unwrap();
    shot(&client, "2-signed-in").await;

    // 3. A new need through the form.
    let title = "Accessible online membership form";
    client.goto(&format!("{web1}needs/new")).await.unwrap();
    fill(&client, "input[name=title]", title).await;
    fill(&client, "input[name=goal]", "2400EUR").await;
    shot(&client, "3-new-need-form").await;
    click(&client, "form[action='/needs/new'] button[type=submit]").await;
    // The funding panel is on a need's page only.
    appears(&client, "#funding-h").await;
    shot(&client, "4-need-page").await;
    let url = client.current_url().await.unwrap();
    assert!(
        url.path().starts_with("/needs/") && url.path() != "/needs/new",
        "the form leads to the new need's page, not {url}"
    );
    assert!(client.source().await.unwrap().contains(title));

    // 4. The public body's node lists it, with its progress bar.
    let listed = format!("//*[contains(text(), '{title}')]/ancestor::*[.//progress][1]//progress");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        client.goto(&format!("{web2}needs")).await.unwrap();
        if client.find(Locator::XPath(&listed)).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the need never showed on the second node");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let bar = client.find(Locator::XPath(&listed)).await.unwrap();
    assert_eq!(bar.attr("value").await.unwrap().as_deref(), Some("0"));
    shot(&client, "5-second-node-needs").await;

    // 5. The duplicate: the form shows the open need that says the same,
    //    published anyway, then merged into it from its own page.
    client.goto(&format!("{web1}projects")).await.unwrap();
    let paheko = client
        .find(Locator::XPath(
            "//a[starts-with(@href, '/projects/') and text()='Paheko']",
        ))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let paheko = paheko.trim_start_matches("/projects/").to_owned();
    client.goto(&format!("{web1}needs/new")).await.unwrap();
    fill(&client, "input[name=project]", &paheko).await;
    fill(&client, "input[name=title]", "Paheko : export des prélèvements SEPA").await;
    fill(&client, "input[name=tags]", "sepa").await;
    click(&client, "form[action='/needs/new'] button[type=submit]").await;
    let similar = appears(&client, "section.similar").await.text().await.unwrap();
    shot(&client, "6-similar-needs").await;
    assert!(similar.contains("Paheko: SEPA direct debit export"), "{similar}");
    click(&client, "form[action='/needs/new'] button[type=submit]").await;
    // Only the new need's own page has a merge button in its similar list.
    let merge = appears(&client, "#similar form[action$='/merge'] button").await;
    let duplicate = client.current_url().await.unwrap();
    assert!(duplicate.path().starts_with("/needs/"), "published anyway: {duplicate}");
    merge.click().await.unwrap();
    let merged = appears(&client, "#merged").await.text().await.unwrap();
    shot(&client, "7-merged").await;
    assert!(merged.contains("Paheko: SEPA direct debit export"), "{merged}");
    client.goto(&format!("{web1}needs")).await.unwrap();
    assert!(
        !client.source().await.unwrap().contains(duplicate.path()),
        "a merged need left the list"
    );
    client.close().await.unwrap();
}
