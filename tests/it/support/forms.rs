//! Driving the HTML sign-in pages over HTTP as a browser would: cookies kept, hidden inputs of a
//! form read and posted back. (The pages are also exercised in headless Chromium elsewhere.)

use std::collections::BTreeMap;

use regex::Regex;

use super::Answer;

#[derive(Default)]
pub struct FormClient {
    pub cookies: BTreeMap<String, String>,
    http: reqwest::Client,
}

impl FormClient {
    pub fn new() -> FormClient {
        FormClient {
            cookies: BTreeMap::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Answer {
        for v in resp.headers().get_all("set-cookie") {
            let s = v.to_str().unwrap();
            let pair = s.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Answer {
        let resp = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    pub async fn post_form(&mut self, url: &str, form: &[(String, String)]) -> Answer {
        let resp = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }
}

/// `name=value` pairs of the hidden inputs of the first form in `html` (entities decoded).
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let form = html.split("</form>").next().unwrap_or(html);
    let re = Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)">"#).unwrap();
    re.captures_iter(form)
        .map(|c| (c[1].to_string(), decode(&c[2])))
        .collect()
}

pub fn decode(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Replaces or adds `name` in a form.
pub fn set(form: &mut Vec<(String, String)>, name: &str, value: &str) {
    form.retain(|(k, _)| k != name);
    form.push((name.to_string(), value.to_string()));
}
