//! The one thing the sync engine asks of the network: send an HTTP request to the sync
//! server, get the status and body back. Browsers use `fetch` ([`FetchTransport`]); native
//! callers plug in any client (the `selfos` command line uses a blocking one; tests call the
//! server's router in-process).

/// A request to the sync API. `path` starts with `/` and is relative to the server's base URL.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: &'static str,
    pub path: String,
    pub bearer: Option<String>,
    /// A JSON body.
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// The `Retry-After` header in seconds, when the server sent one.
    pub retry_after_s: Option<u64>,
    pub body: Vec<u8>,
}

/// Sends requests to one sync server. `Err` means the request did not get an HTTP answer at
/// all (offline, DNS, refused, TLS): the engine treats it as "try again later".
#[allow(async_fn_in_trait)] // single-threaded in browsers; no Send bound wanted
pub trait Transport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String>;
}

/// A server base URL without a trailing slash. Refuses anything but `https://`, except plain
/// `http://` to this machine (`localhost`, `127.0.0.0/8`, `[::1]`): over any other network the
/// login credential, the session token and the wrapped vault key would cross in clear text.
pub fn normalize_base_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let (rest, plain) = match url.strip_prefix("https://") {
        Some(rest) => (rest, false),
        None => (
            url.strip_prefix("http://")
                .ok_or_else(|| format!("server URL `{url}`: use https://"))?,
            true,
        ),
    };
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(format!("server URL `{url}` has no host"));
    }
    if plain && !is_loopback(host_of(rest)) {
        return Err(format!(
            "server URL `{url}`: plain http:// is only allowed to this machine (localhost); \
             use https:// so your login and vault key are not sent in clear text"
        ));
    }
    Ok(url.to_owned())
}

/// The host of `host[:port][/path]`, without brackets for IPv6 literals. Userinfo
/// (`user@host`) is kept in front, so `localhost@evil.example` is not taken for loopback.
fn host_of(authority_and_path: &str) -> &str {
    let authority = authority_and_path
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(target_arch = "wasm32")]
pub use fetch::FetchTransport;

#[cfg(target_arch = "wasm32")]
mod fetch {
    use super::{HttpRequest, HttpResponse, Transport};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen]
    extern "C" {
        /// `globalThis.fetch`: the same in pages, workers and extension service workers.
        #[wasm_bindgen(js_name = fetch)]
        fn global_fetch(request: &web_sys::Request) -> js_sys::Promise;
    }

    /// `fetch` against one server. Credentials (cookies) are never sent: the session token
    /// travels in the `Authorization` header only.
    pub struct FetchTransport {
        base: String,
    }

    impl FetchTransport {
        pub fn new(base_url: &str) -> Result<Self, String> {
            Ok(FetchTransport {
                base: super::normalize_base_url(base_url)?,
            })
        }
    }

    fn js_err(e: JsValue) -> String {
        e.as_string()
            .or_else(|| {
                e.dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
            })
            .unwrap_or_else(|| "network error".into())
    }

    impl Transport for FetchTransport {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
            let init = web_sys::RequestInit::new();
            init.set_method(request.method);
            init.set_credentials(web_sys::RequestCredentials::Omit);
            init.set_cache(web_sys::RequestCache::NoStore);
            let headers = web_sys::Headers::new().map_err(js_err)?;
            if let Some(token) = &request.bearer {
                headers
                    .set("authorization", &crate::sync::wire::bearer(token))
                    .map_err(js_err)?;
            }
            if let Some(body) = &request.body {
                headers
                    .set("content-type", "application/json")
                    .map_err(js_err)?;
                let bytes = js_sys::Uint8Array::from(body.as_slice());
                init.set_body(&bytes);
            }
            init.set_headers(&headers);
            let url = format!("{}{}", self.base, request.path);
            let req = web_sys::Request::new_with_str_and_init(&url, &init).map_err(js_err)?;
            let resp: web_sys::Response = JsFuture::from(global_fetch(&req))
                .await
                .map_err(js_err)?
                .dyn_into()
                .map_err(js_err)?;
            let retry_after_s = resp
                .headers()
                .get("retry-after")
                .ok()
                .flatten()
                .and_then(|v| v.trim().parse().ok());
            let buf = JsFuture::from(resp.array_buffer().map_err(js_err)?)
                .await
                .map_err(js_err)?;
            Ok(HttpResponse {
                status: resp.status(),
                retry_after_s,
                body: js_sys::Uint8Array::new(&buf).to_vec(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_base_url;

    #[test]
    fn https_anywhere_and_plain_http_only_to_this_machine() {
        for ok in [
            "https://sync.example.com/",
            "https://10.0.0.5:8787",
            "http://127.0.0.1:8787",
            "http://127.8.9.10",
            "http://localhost:3000/",
            "http://LOCALHOST",
            "http://[::1]:8787",
        ] {
            assert!(normalize_base_url(ok).is_ok(), "{ok} refused");
        }
        for bad in [
            "http://sync.example.com",
            "http://192.168.1.20:8787",
            "http://[2001:db8::1]:8787",
            "http://localhost.example.com",
            "http://localhost@evil.example",
            "http://127.0.0.1.nip.io",
            "ftp://127.0.0.1",
            "https://",
        ] {
            assert!(normalize_base_url(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            normalize_base_url(" https://a.example/ ").as_deref(),
            Ok("https://a.example")
        );
    }
}
