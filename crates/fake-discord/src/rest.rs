//! The REST routes, answered as Discord does.

use super::*;

// ----- REST ----------------------------------------------------------------

/// The routes the fake knows, after `/api/v10`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Gateway,
    GatewayBot,
    CurrentUser,
    CurrentApplication,
    /// PUT/GET/POST `/applications/{app}/commands` or `.../guilds/{g}/commands`.
    Commands {
        guild: Option<u64>,
    },
    Command,
    InteractionCallback {
        id: u64,
    },
    Webhook,
    ChannelMessages {
        channel: u64,
    },
    Channel {
        channel: u64,
    },
    Guild {
        guild: u64,
    },
    GuildMember {
        guild: u64,
        user: u64,
    },
}

pub(crate) fn route_of(method: &str, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/api/v10")?;
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let r = match (method, parts.as_slice()) {
        ("GET", ["gateway"]) => Route::Gateway,
        ("GET", ["gateway", "bot"]) => Route::GatewayBot,
        ("GET", ["users", "@me"]) => Route::CurrentUser,
        ("GET", ["oauth2", "applications", "@me"]) | ("GET", ["applications", "@me"]) => {
            Route::CurrentApplication
        }
        ("GET" | "PUT" | "POST", ["applications", _app, "commands"]) => {
            Route::Commands { guild: None }
        }
        ("GET" | "PUT" | "POST", ["applications", _app, "guilds", g, "commands"]) => {
            Route::Commands {
                guild: Some(g.parse().ok()?),
            }
        }
        (_, ["applications", _app, "commands", _id])
        | (_, ["applications", _app, "guilds", _, "commands", _id]) => Route::Command,
        ("POST", ["interactions", id, _token, "callback"]) => Route::InteractionCallback {
            id: id.parse().ok()?,
        },
        (_, ["webhooks", _app, _token, ..]) => Route::Webhook,
        ("POST", ["channels", c, "messages"]) => Route::ChannelMessages {
            channel: c.parse().ok()?,
        },
        ("GET", ["channels", c]) => Route::Channel {
            channel: c.parse().ok()?,
        },
        ("GET", ["guilds", g]) => Route::Guild {
            guild: g.parse().ok()?,
        },
        ("GET", ["guilds", g, "members", u]) => Route::GuildMember {
            guild: g.parse().ok()?,
            user: u.parse().ok()?,
        },
        _ => return None,
    };
    Some(r)
}

pub(crate) fn json_response(status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// 400 Invalid Form Body with Discord's nested `errors` object, built from
/// `"dotted.path: message"` strings.
pub(crate) fn invalid_form_body(errors: Vec<String>) -> Answer {
    let mut tree = json!({});
    for e in errors {
        let (path, message) = e.split_once(": ").unwrap_or(("", e.as_str()));
        let mut node = &mut tree;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            node = node
                .as_object_mut()
                .expect("object")
                .entry(seg)
                .or_insert_with(|| json!({}));
        }
        let list = node
            .as_object_mut()
            .expect("object")
            .entry("_errors")
            .or_insert_with(|| json!([]));
        list.as_array_mut()
            .expect("array")
            .push(json!({"code": "FAKE_DISCORD_INVALID", "message": message}));
    }
    (
        400,
        json!({"code": 50035, "message": "Invalid Form Body", "errors": tree}),
        vec![],
    )
}

pub(crate) async fn rest(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let is_post = matches!(
        route_of(&method, &path),
        Some(Route::ChannelMessages { .. })
    );
    // Counts this post as in flight until answered (or dropped half-way).
    let in_flight = is_post.then(|| PostInFlight::new(&inner));
    let delay = {
        let st = inner.lock();
        st.response_delays
            .iter()
            .rev()
            .find(|d| d.method == method && path.starts_with(&d.prefix))
            .map(|d| (d.delay, d.after))
    };
    let bytes = to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    if let Some((d, false)) = delay {
        tokio::time::sleep(d).await;
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };

    let (status, resp_body, resp_headers) = {
        let mut st = inner.lock();
        let (status, resp_body, resp_headers) = answer(&inner, &mut st, &method, &path, &body);
        let index = st.requests.len();
        st.requests.push(RecordedRequest {
            index,
            method,
            path,
            query,
            headers,
            body,
            status,
            at: Instant::now(),
        });
        (status, resp_body, resp_headers)
    };
    if let Some((d, true)) = delay {
        tokio::time::sleep(d).await;
    }
    drop(in_flight);
    inner.bump();
    if status == 204 {
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut().remove(axum::http::header::CONTENT_TYPE);
        return r;
    }
    json_response(status, &resp_body, &resp_headers)
}

/// One `POST /channels/*/messages` being answered.
pub(crate) struct PostInFlight(Arc<Inner>);

impl PostInFlight {
    fn new(inner: &Arc<Inner>) -> PostInFlight {
        let mut st = inner.lock();
        st.posts_in_flight += 1;
        st.max_posts_in_flight = st.max_posts_in_flight.max(st.posts_in_flight);
        PostInFlight(Arc::clone(inner))
    }
}

impl Drop for PostInFlight {
    fn drop(&mut self) {
        self.0.lock().posts_in_flight -= 1;
    }
}

pub(crate) type Answer = (u16, Value, Vec<(String, String)>);

pub(crate) fn answer(
    inner: &Inner,
    st: &mut State_,
    method: &str,
    path: &str,
    body: &Value,
) -> Answer {
    // A request inside the window of an earlier 429 on the same path is
    // limited again, as Discord does (its buckets are per route and id).
    let now = Instant::now();
    st.rate_windows.retain(|w| w.until > now);
    if let Some(w) = st
        .rate_windows
        .iter()
        .find(|w| w.method == method && w.path == path)
    {
        let left = w.until.duration_since(now).as_secs_f64();
        let f = Fault::rate_limited(left);
        return (f.status, f.body, f.headers);
    }
    // Injected route faults come first.
    if let Some(f) = st
        .route_faults
        .iter_mut()
        .find(|f| f.remaining > 0 && f.method == method && path.starts_with(&f.prefix))
    {
        f.remaining -= 1;
        let fault = f.fault.clone();
        st.route_faults.retain(|f| f.remaining > 0);
        if fault.status == 429 {
            if let Some(secs) = fault.body["retry_after"].as_f64() {
                st.rate_windows.push(RateWindow {
                    method: method.to_owned(),
                    path: path.to_owned(),
                    until: now + Duration::from_secs_f64(secs),
                });
            }
        }
        return (fault.status, fault.body, fault.headers);
    }
    let ok = |v: Value| (200, v, vec![]);
    let Some(route) = route_of(method, path) else {
        return (404, json!({"message": "Unknown", "code": 0}), vec![]);
    };
    let validate = st.validate.unwrap_or(true);
    match route {
        Route::Gateway => ok(json!({"url": format!("ws://{}/gateway", inner.addr)})),
        Route::GatewayBot => ok(json!({
            "url": format!("ws://{}/gateway", inner.addr),
            "shards": st.recommended_shards.unwrap_or(1),
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        })),
        Route::CurrentUser => ok(bot_user()),
        Route::CurrentApplication => ok(json!({
            "id": APP_ID.to_string(),
            "name": "massage-bot",
            "icon": null,
            "description": "A fake application",
            "rpc_origins": [],
            "bot_public": false,
            "bot_require_code_grant": false,
            "owner": user_json(USER_ID, "owner", false),
            "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
            "team": null,
            "flags": 0,
            "bot": bot_user(),
        })),
        Route::Commands { guild } => match method {
            "PUT" => {
                let Some(list) = body.as_array() else {
                    return invalid_form_body(vec!["_: expected an array of commands".into()]);
                };
                if validate {
                    if let Err(e) = check_commands(list) {
                        return invalid_form_body(e);
                    }
                }
                let previous = st.commands.get(&guild).cloned().unwrap_or_default();
                let out: Vec<Value> = list
                    .iter()
                    .map(|c| {
                        let id = previous
                            .iter()
                            .find(|p| p["name"] == c["name"])
                            .and_then(|p| p["id"].as_str().map(str::to_owned))
                            .unwrap_or_else(|| snowflake().to_string());
                        command_object(c, &id, guild)
                    })
                    .collect();
                st.commands.insert(guild, out.clone());
                ok(Value::Array(out))
            }
            "POST" => {
                let id = snowflake().to_string();
                let c = command_object(body, &id, guild);
                let list = st.commands.entry(guild).or_default();
                list.retain(|p| p["name"] != c["name"]);
                list.push(c.clone());
                (201, c, vec![])
            }
            _ => ok(Value::Array(
                st.commands.get(&guild).cloned().unwrap_or_default(),
            )),
        },
        Route::Command => match method {
            "DELETE" => (204, Value::Null, vec![]),
            _ => (
                404,
                json!({"message": "Unknown application command", "code": 10063}),
                vec![],
            ),
        },
        Route::InteractionCallback { id } => {
            if st.enforce_ack.unwrap_or(true) {
                if !st.interactions.contains_key(&id) {
                    return (
                        404,
                        json!({"message": "Unknown interaction", "code": 10062}),
                        vec![],
                    );
                }
                if st.acknowledged.contains(&id) {
                    return (
                        400,
                        json!({"message": "Interaction has already been acknowledged.", "code": 40060}),
                        vec![],
                    );
                }
            }
            if validate {
                if let Err(e) = check_callback(body) {
                    return invalid_form_body(e);
                }
            }
            st.acknowledged.insert(id);
            (204, Value::Null, vec![])
        }
        Route::Webhook => match method {
            "DELETE" => (204, Value::Null, vec![]),
            _ => {
                if validate && !body.is_null() {
                    if let Err(e) = check_message(body) {
                        return invalid_form_body(e);
                    }
                }
                ok(message_object(CHANNEL_ID, body))
            }
        },
        Route::ChannelMessages { channel } => {
            if let Some(f) = st.channel_faults.get(&channel) {
                return (f.status, f.body.clone(), f.headers.clone());
            }
            if validate {
                if let Err(e) = check_message(body) {
                    return invalid_form_body(e);
                }
            }
            // Discord de-duplicates by nonce for a few minutes; the fake
            // for as long as it runs.
            let nonce = (body["enforce_nonce"] == json!(true))
                .then(|| body["nonce"].as_str().map(|n| (channel, n.to_owned())))
                .flatten();
            if let Some(first) = nonce.as_ref().and_then(|k| st.nonces.get(k)) {
                let first = first.clone();
                st.nonce_repeats += 1;
                return ok(first);
            }
            let m = message_object(channel, body);
            st.messages.push(body.clone());
            if let Some(k) = nonce {
                st.nonces.insert(k, m.clone());
            }
            ok(m)
        }
        Route::Channel { channel } => match st.channel_models.get(&channel) {
            Some(c) => ok(guilds::channel_json(c)),
            None => (
                404,
                json!({"message": "Unknown Channel", "code": 10003}),
                vec![],
            ),
        },
        Route::Guild { guild } => match st.guild_models.get(&guild) {
            Some(g) => ok(guilds::guild_json(g)),
            None => unknown_guild(),
        },
        Route::GuildMember { guild, user } => match st.guild_models.get(&guild) {
            Some(g) => ok(guilds::member_json(g, user)),
            None => unknown_guild(),
        },
    }
}

pub(crate) fn unknown_guild() -> Answer {
    (
        404,
        json!({"message": "Unknown Guild", "code": 10004}),
        vec![],
    )
}

/// A registered command as Discord returns it.
pub(crate) fn command_object(c: &Value, id: &str, guild: Option<u64>) -> Value {
    let mut out = c.clone();
    if !out.is_object() {
        out = json!({});
    }
    let o = out.as_object_mut().expect("object");
    o.insert("id".into(), json!(id));
    o.insert("application_id".into(), json!(APP_ID.to_string()));
    o.insert("version".into(), json!(snowflake().to_string()));
    o.entry("type").or_insert(json!(1));
    o.entry("description").or_insert(json!(""));
    o.entry("default_member_permissions").or_insert(Value::Null);
    o.entry("nsfw").or_insert(json!(false));
    if let Some(g) = guild {
        o.insert("guild_id".into(), json!(g.to_string()));
    }
    out
}
