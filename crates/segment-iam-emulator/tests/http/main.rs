//! Tests over real HTTP (reqwest against a started emulator).
#![allow(clippy::unwrap_used, missing_docs)]

mod audit;
mod errors;
mod faults;
mod labels;
mod operations;
mod pagination;
mod ratelimit;
mod roles_and_workspace;

use reqwest::Method;
use reqwest::header::HeaderMap;
use segment_iam_emulator::{Emulator, EmulatorBuilder, EmulatorHandle, Fixture};
use serde_json::Value;

pub const OWNER: &str = "1WDUuRLxv84rrfCNUwvkrRtkxnS";
pub const MEMBER: &str = "1WDUuVBnqMOgaTtWbvNrvOhQFNY";

/// A small, known workspace.
pub fn fixture() -> Fixture {
    Fixture::from_json(
        r#"{
          "users": [
            {"id": "u1", "name": "Ada", "email": "ada@example.com",
             "permissions": [{"roleId": "1WDUuRLxv84rrfCNUwvkrRtkxnS",
                              "resources": [{"id": "9aQ1Lj62S4bomZKLF4DPqW", "type": "WORKSPACE"}]}]},
            {"id": "u2", "name": "Bob", "email": "bob+qa@example.com"},
            {"id": "u3", "name": "", "email": "ünï@example.com"}
          ],
          "invites": [{"email": "carol@example.com"}],
          "groups": [
            {"id": "g1", "name": "Admins", "members": ["ada@example.com", "carol@example.com"]},
            {"id": "g2", "name": "Empty"}
          ]
        }"#,
    )
    .unwrap()
}

pub struct Api {
    pub emu: EmulatorHandle,
    pub http: reqwest::Client,
    pub token: String,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    /// `errors[0].field`.
    pub fn field(&self) -> &str {
        self.json["errors"][0]["field"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.json["errors"][0]["message"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    pub async fn start(b: EmulatorBuilder) -> Self {
        let emu = b.start().await.unwrap();
        let token = emu.token();
        Self {
            emu,
            http: reqwest::Client::new(),
            token,
        }
    }

    /// The fixture workspace, limits off.
    pub async fn fixture() -> Self {
        Self::start(Emulator::builder().fixture(fixture()).rate_limits(false)).await
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.emu.base_url(), path_and_query)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn call(&self, method: Method, pq: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .http
            .request(method, self.url(pq))
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.segment.v1+json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    pub async fn get(&self, pq: &str) -> Resp {
        self.call(Method::GET, pq, None).await
    }
    pub async fn post(&self, pq: &str, body: Value) -> Resp {
        self.call(Method::POST, pq, Some(body)).await
    }
    pub async fn put(&self, pq: &str, body: Value) -> Resp {
        self.call(Method::PUT, pq, Some(body)).await
    }
    pub async fn patch(&self, pq: &str, body: Value) -> Resp {
        self.call(Method::PATCH, pq, Some(body)).await
    }
    pub async fn delete(&self, pq: &str) -> Resp {
        self.call(Method::DELETE, pq, None).await
    }
}
